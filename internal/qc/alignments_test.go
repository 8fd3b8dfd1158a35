package qc

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/format/bam"
	"github.com/seqstore/seqstore/internal/format/sam"
	"github.com/seqstore/seqstore/internal/testutil"
)

// readBAM accumulates every record of a BAM file.
func readBAM(t testing.TB, path string) (*Alignments, *Reads) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := bam.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer rd.Close()
	var a Alignments
	var r Reads
	var rec sam.Record
	for {
		err := rd.Read(&rec)
		if err == io.EOF {
			return &a, &r
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		a.AddBAM(&rec)
		if rec.IsPrimary() {
			r.AddPhred(rec.Seq, rec.Qual)
		}
	}
}

// flagstatBAMs returns BAM files with many flag combinations: those of
// htslib-test, its SAM files as BAM, and reads of bowtie2's lambda example
// aligned by minimap2 as pairs and alone.
func flagstatBAMs(t *testing.T) []string {
	samtools := testutil.RequireTool(t, "samtools")
	minimap2 := testutil.RequireTool(t, "minimap2")
	htslib := testutil.RequireDir(t, "/usr/share/htslib-test/test")
	examples := testutil.RequireDir(t, "/usr/share/doc/bowtie2/examples")
	files := testutil.Glob(t, htslib+"/*.bam")
	dir := t.TempDir()
	for _, s := range testutil.Glob(t, htslib+"/*.sam") {
		out := filepath.Join(dir, strings.TrimSuffix(filepath.Base(s), ".sam")+".bam")
		// Some of the SAM files are deliberately broken; samtools
		// refusing one leaves it out.
		if exec.Command(samtools, "view", "--no-PG", "-b", "-o", out, s).Run() == nil {
			files = append(files, out)
		}
	}
	ref := filepath.Join(examples, "reference/lambda_virus.fa.gz")
	r1, r2 := filepath.Join(examples, "reads/reads_1.fq.gz"), filepath.Join(examples, "reads/reads_2.fq.gz")
	for name, reads := range map[string]string{"lambda-pairs.bam": r1 + " " + r2, "lambda-single.bam": r1} {
		out := filepath.Join(dir, name)
		script := minimap2 + " -a -x sr " + ref + " " + reads + " 2>/dev/null | " + samtools + " sort -o " + out + " -"
		if msg, err := exec.Command("bash", "-euo", "pipefail", "-c", script).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", script, err, msg)
		}
		files = append(files, out)
	}
	return files
}

// TestMatchesFlagstat compares WriteFlagstat with `samtools flagstat` on
// the same files, line for line.
func TestMatchesFlagstat(t *testing.T) {
	files := flagstatBAMs(t)
	if len(files) < 20 {
		t.Fatalf("only %d BAM files to compare on", len(files))
	}
	for _, path := range files {
		want := testutil.Run(t, "samtools", "flagstat", path)
		a, _ := readBAM(t, path)
		var got bytes.Buffer
		if err := WriteFlagstat(&got, a); err != nil {
			t.Fatal(err)
		}
		if got.String() != string(want) {
			t.Errorf("%s:\nours:\n%s\nsamtools flagstat:\n%s", filepath.Base(path), got.String(), want)
		}
	}
}
