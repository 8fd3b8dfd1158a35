package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/testutil"
)

// TestInspectQC: -qc prints each file's statistics and -qc-out writes the
// reports MultiQC reads, the flagstat one equal to samtools flagstat's.
func TestInspectQC(t *testing.T) {
	testutil.RequireTool(t, "samtools")
	bin := buildBinary(t)
	dir := t.TempDir()
	fq := filepath.Join(dir, "sample1.fastq.gz")
	// Two gzip members make one FASTQ, as `cat a.gz b.gz` does.
	testutil.Run(t, "bash", "-c", "printf '@r1\\nACGTN\\n+\\nIII#!\\n' | gzip -c > "+fq+" && printf '@r2\\nGGCC\\n+\\n5555\\n' | gzip -c >> "+fq)
	sam := filepath.Join(dir, "sample2.sam")
	os.WriteFile(sam, []byte("@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:100\n"+
		"p1\t99\tchr1\t5\t60\t4M\t=\t20\t19\tACGT\tIIII\n"+
		"p1\t147\tchr1\t20\t60\t4M\t=\t5\t-19\tACGT\tIIII\n"+
		"s1\t73\tchr1\t30\t3\t4M\t*\t0\t0\tACGT\tIIII\n"+
		"s1\t1669\t*\t0\t0\t*\t*\t0\t0\tACGT\tIIII\n"), 0o644)
	bam := filepath.Join(dir, "sample2.bam")
	testutil.Run(t, "samtools", "view", "-b", "-o", bam, sam)
	out := filepath.Join(dir, "qc")

	stdout, err := exec.Command(bin, "inspect", "-qc", "-qc-out", out, fq, bam).Output()
	if err != nil {
		t.Fatalf("inspect -qc: %v\n%s", err, stdout)
	}
	type inspected struct {
		QC struct {
			Reads struct {
				Reads     int64
				Positions []struct{ Mean float64 }
			}
			Alignments *struct {
				QCPassed, QCFailed struct{ Total, Singletons int64 }
				InsertSizes        []struct{ InsertSize, Count int64 } `json:"insertSizeDistribution"`
			}
		}
	}
	var results []inspected
	for _, line := range strings.Split(strings.TrimSpace(string(stdout)), "\n") {
		var r inspected
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		results = append(results, r)
	}
	if len(results) != 2 {
		t.Fatalf("want two JSON lines, got:\n%s", stdout)
	}
	fqQC, bamQC := results[0].QC, results[1].QC
	if fqQC.Reads.Reads != 2 || len(fqQC.Reads.Positions) != 5 || fqQC.Reads.Positions[0].Mean != 30 || fqQC.Alignments != nil {
		t.Errorf("FASTQ qc: %+v, want 2 reads, 5 positions, mean quality 30 at the first, no alignments", fqQC)
	}
	if a := bamQC.Alignments; a == nil || a.QCPassed.Total != 3 || a.QCFailed.Total != 1 || a.QCPassed.Singletons != 1 ||
		len(a.InsertSizes) != 1 || a.InsertSizes[0].InsertSize != 19 || bamQC.Reads.Reads != 4 {
		t.Errorf("BAM qc: %+v, %+v", bamQC.Reads, bamQC.Alignments)
	}

	flagstat, err := os.ReadFile(filepath.Join(out, "sample2.flagstat"))
	if err != nil {
		t.Fatal(err)
	}
	if want := testutil.Run(t, "samtools", "flagstat", bam); string(flagstat) != string(want) {
		t.Errorf("sample2.flagstat:\n%s\nsamtools flagstat:\n%s", flagstat, want)
	}
	stats, err := os.ReadFile(filepath.Join(out, "sample2.stats"))
	if err != nil {
		t.Fatal(err)
	}
	samtoolsStats := string(testutil.Run(t, "samtools", "stats", bam))
	for _, want := range []string{"SN\traw total sequences:\t4", "SN\treads QC failed:\t1"} {
		if !strings.Contains(string(stats), want+"\n") || !strings.Contains(samtoolsStats, want) {
			t.Errorf("sample2.stats or samtools stats lacks %q:\n%s", want, stats)
		}
	}
	fastqc, err := os.ReadFile(filepath.Join(out, "sample1_fastqc", "fastqc_data.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Filename\tsample1.fastq.gz\n", "Total Sequences\t2\n", ">>Per base sequence quality\t", "\n1\t30.0\t"} {
		if !strings.Contains(string(fastqc), want) {
			t.Errorf("fastqc_data.txt lacks %q:\n%s", want, fastqc)
		}
	}

	t.Run("MultiQC reads the reports", func(t *testing.T) {
		multiqc := testutil.RequireTool(t, "multiqc")
		report := t.TempDir()
		testutil.Run(t, multiqc, "--quiet", "--data-format", "json", "--outdir", report, out)
		text, err := os.ReadFile(filepath.Join(report, "multiqc_data", "multiqc_data.json"))
		if err != nil {
			t.Fatal(err)
		}
		var data struct {
			Raw struct {
				FastQC   map[string]map[string]any `json:"multiqc_fastqc"`
				Flagstat map[string]map[string]any `json:"multiqc_samtools_flagstat"`
				Stats    map[string]map[string]any `json:"multiqc_samtools_stats"`
			} `json:"report_saved_raw_data"`
		}
		if err := json.Unmarshal(text, &data); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			what      string
			got, want any
		}{
			{"FastQC total sequences", data.Raw.FastQC["sample1"]["Total Sequences"], 2.0},
			{"flagstat QC-passed total", data.Raw.Flagstat["sample2"]["total_passed"], 3.0},
			{"stats raw total sequences", data.Raw.Stats["sample2"]["raw_total_sequences"], 4.0},
		} {
			if c.got != c.want {
				t.Errorf("MultiQC's %s = %v, want %v", c.what, c.got, c.want)
			}
		}
	})

	// An unaligned BAM gets both reports.
	ubam := filepath.Join(dir, "sample4.bam")
	testutil.Run(t, "samtools", "import", "-o", ubam, fq)
	if err := exec.Command(bin, "inspect", "-qc-out", out, ubam).Run(); err != nil {
		t.Fatalf("inspect -qc-out of an unaligned BAM: %v", err)
	}
	for _, name := range []string{"sample4.flagstat", "sample4_fastqc/fastqc_data.txt"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Error(err)
		}
	}

	// A CRAM gets the same alignment statistics as the BAM it was made
	// from, in the pass that decodes it.
	cram := filepath.Join(dir, "sample3.cram")
	ref := filepath.Join(dir, "ref.fa")
	os.WriteFile(ref, []byte(">chr1\n"+strings.Repeat("ACGTTGCAAC", 10)+"\n"), 0o644)
	testutil.Run(t, "samtools", "view", "-C", "-T", ref, "-o", cram, bam)
	if out, err := exec.Command(bin, "inspect", "-qc-out", out, "-reference", ref, cram).CombinedOutput(); err != nil {
		t.Fatalf("inspect -qc-out of a CRAM: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(out, "sample3.flagstat"))
	if err != nil {
		t.Fatal(err)
	}
	if want := testutil.Run(t, "samtools", "flagstat", bam); string(got) != string(want) {
		t.Errorf("flagstat of the CRAM:\n%s\nsamtools flagstat of its BAM:\n%s", got, want)
	}
}
