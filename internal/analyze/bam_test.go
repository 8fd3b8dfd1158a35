package analyze

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/etag"
	"github.com/seqstore/seqstore/internal/testutil"
)

// lambdaBAM aligns bowtie2's lambda reads with minimap2 and sorts them.
func lambdaBAM(t testing.TB) (bam, ref string) {
	for _, tool := range []string{"samtools", "minimap2"} {
		testutil.RequireTool(t, tool)
	}
	ex := testutil.RequireDir(t, "/usr/share/doc/bowtie2/examples")
	dir := t.TempDir()
	script := fmt.Sprintf(`set -euo pipefail
gzip -dc %[1]s/reference/lambda_virus.fa.gz > ref.fa
minimap2 -a -x sr ref.fa %[1]s/reads/reads_1.fq.gz %[1]s/reads/reads_2.fq.gz 2>/dev/null | samtools sort -o aligned.bam - 2>/dev/null`, ex)
	if out, err := exec.Command("bash", "-c", "cd "+dir+" && "+script).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return filepath.Join(dir, "aligned.bam"), filepath.Join(dir, "ref.fa")
}

func primaryCounts(t *testing.T, file string) (int64, int64) {
	t.Helper()
	var reads, bases int64
	for _, line := range strings.Split(string(testutil.Run(t, "samtools", "view", "-F", "0x900", file)), "\n") {
		if line == "" {
			continue
		}
		reads++
		if seq := strings.Split(line, "\t")[9]; seq != "*" {
			bases += int64(len(seq))
		}
	}
	return reads, bases
}

func checkAgainstSamtools(t *testing.T, file string) *Result {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	res, err := BAM(context.Background(), bytes.NewReader(b), FileTypeBAM, nil, []etag.Family{etag.MD5up})
	if err != nil {
		t.Fatal(err)
	}
	text := testutil.Run(t, "samtools", "view", file)
	sum := md5.Sum(text)
	if got, want := res.ETags[etag.MD5up][0], hex.EncodeToString(sum[:]); got != want {
		t.Errorf("ETag %s, md5 of samtools view is %s", got, want)
	}
	reads, bases := primaryCounts(t, file)
	if res.ReadCount != reads || res.BaseCount != bases {
		t.Errorf("counts %d/%d, samtools %d/%d", res.ReadCount, res.BaseCount, reads, bases)
	}
	return res
}

func TestBAMMatchesSamtoolsOnLambda(t *testing.T) {
	bam, _ := lambdaBAM(t)
	checkAgainstSamtools(t, bam)
}

// Every SAM file of htslib's test suite that samtools converts to BAM
// renders back exactly as samtools prints it.
func TestBAMMatchesSamtoolsOnHtslibCorpus(t *testing.T) {
	testutil.RequireTool(t, "samtools")
	dir := testutil.RequireDir(t, "/usr/share/htslib-test/test")
	sams, _ := filepath.Glob(filepath.Join(dir, "*.sam"))
	more, _ := filepath.Glob(filepath.Join(dir, "*/*.sam"))
	sams = append(sams, more...)
	converted := 0
	for _, s := range sams {
		bam := filepath.Join(t.TempDir(), "x.bam")
		if exec.Command("samtools", "view", "-b", "-o", bam, s).Run() != nil {
			continue // samtools itself refuses it
		}
		if exec.Command("samtools", "view", bam).Run() != nil {
			continue
		}
		converted++
		t.Run(filepath.Base(s), func(t *testing.T) { checkAgainstSamtools(t, bam) })
	}
	if converted < 20 {
		t.Fatalf("only %d htslib-test SAM files converted", converted)
	}
}

// Real BAM files: htslib-test's and seqkit-examples' nanopore alignments.
func TestBAMMatchesSamtoolsOnRealFiles(t *testing.T) {
	testutil.RequireTool(t, "samtools")
	bams, _ := filepath.Glob(filepath.Join(testutil.RequireDir(t, "/usr/share/htslib-test/test"), "*.bam"))
	gzipped, _ := filepath.Glob(filepath.Join(testutil.RequireDir(t, "/usr/share/doc/seqkit-examples/tests"), "*.bam.gz"))
	for _, g := range gzipped {
		out := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(g), ".gz"))
		if err := exec.Command("bash", "-c", "gzip -dc '"+g+"' > '"+out+"'").Run(); err != nil {
			t.Fatal(err)
		}
		bams = append(bams, out)
	}
	if len(bams) < 3 {
		t.Fatalf("only %d BAM files found", len(bams))
	}
	for _, b := range bams {
		t.Run(filepath.Base(b), func(t *testing.T) {
			if exec.Command("samtools", "view", b).Run() != nil {
				t.Skip("samtools refuses it")
			}
			checkAgainstSamtools(t, b)
		})
	}
}

func TestBAIAnswersLikeSamtools(t *testing.T) {
	bam, _ := lambdaBAM(t)
	b, _ := os.ReadFile(bam)
	var idx bytes.Buffer
	res, err := BAM(context.Background(), bytes.NewReader(b), FileTypeBAM, &idx, []etag.Family{etag.MD5up})
	if err != nil || !res.Indexed {
		t.Fatalf("indexed %v, err %v", res != nil && res.Indexed, err)
	}
	ours := filepath.Join(t.TempDir(), "ours.bai")
	os.WriteFile(ours, idx.Bytes(), 0o644)
	testutil.Run(t, "samtools", "index", bam)
	ref := strings.Fields(strings.Split(string(testutil.Run(t, "samtools", "view", "-H", bam)), "SN:")[1])[0]
	regions := []string{ref, ref + ":1-1", ref + ":1-16384", ref + ":16384-16385", ref + ":48400-48502", "*"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 40 {
		beg := rng.IntN(48000) + 1
		regions = append(regions, ref+":"+strconv.Itoa(beg)+"-"+strconv.Itoa(beg+rng.IntN(5000)))
	}
	for _, region := range regions {
		got := testutil.Run(t, "samtools", "view", "-X", bam, ours, region)
		want := testutil.Run(t, "samtools", "view", bam, region)
		if !bytes.Equal(got, want) {
			t.Errorf("region %s: %d bytes through our index, %d through samtools'", region, len(got), len(want))
		}
	}
	// idxstats reads the pseudo-bin counts; it finds an index only beside
	// the file.
	alone := filepath.Join(t.TempDir(), "alone.bam")
	os.WriteFile(alone, b, 0o644)
	os.WriteFile(alone+".bai", idx.Bytes(), 0o644)
	stats := testutil.Run(t, "samtools", "idxstats", alone)
	if want := testutil.Run(t, "samtools", "idxstats", bam); !bytes.Equal(stats, want) {
		t.Errorf("idxstats through our index:\n%s\nsamtools':\n%s", stats, want)
	}
}

func TestBAMDefects(t *testing.T) {
	bam, _ := lambdaBAM(t)
	good, _ := os.ReadFile(bam)
	corruptSize := append([]byte{}, good...)
	tests := []struct {
		name     string
		data     []byte
		fileType string
		want     string
	}{
		{"an empty file", nil, FileTypeBAM, "the file is empty"},
		{"FASTQ", []byte("@r1\nACGT\n+\n!!!!\n"), FileTypeBAM, "FASTQ or SAM text"},
		{"CRAM", []byte("CRAM\x03\x00rest"), FileTypeBAM, "this is CRAM"},
		{"VCF", []byte("##fileformat=VCFv4.2\n"), FileTypeBAM, "VCF"},
		{"a truncated file", good[:len(good)/2], FileTypeBAM, "source1"},
		{"a missing EOF marker", good[:len(good)-28], FileTypeBAM, "end-of-file marker"},
		{"a corrupt block", corruptSize[:len(corruptSize)-28], FileTypeBAM, "source1"},
		{"mapped reads in a uBAM", good, FileTypeUBAM, "is mapped"},
	}
	corruptSize[len(corruptSize)/3] ^= 0xff
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := BAM(context.Background(), bytes.NewReader(tt.data), tt.fileType, nil, []etag.Family{etag.MD5up})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			if _, ok := err.(*Error); !ok {
				t.Fatalf("%T is not an *analyze.Error", err)
			}
		})
	}
}

func FuzzBAM(f *testing.F) {
	// A small real BAM seeds the fuzzer when samtools is at hand.
	if _, err := exec.LookPath("samtools"); err == nil {
		sam := "@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:c\tLN:100\nr1\t99\tc\t5\t60\t4M\t=\t20\t19\tACGT\tIIII\tNM:i:0\tXB:B:c,1,-2\nr2\t4\t*\t0\t0\t*\t*\t0\t0\tAC\t*\n"
		cmd := exec.Command("samtools", "view", "-b", "-")
		cmd.Stdin = strings.NewReader(sam)
		if b, err := cmd.Output(); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte{})
	f.Add([]byte("\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00BC\x02\x00\x1b\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		BAM(context.Background(), bytes.NewReader(b), FileTypeBAM, &bytes.Buffer{}, []etag.Family{etag.MD5up})
	})
}

func BenchmarkBAM(b *testing.B) {
	bam, _ := lambdaBAM(b)
	data, _ := os.ReadFile(bam)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := BAM(context.Background(), bytes.NewReader(data), FileTypeBAM, &bytes.Buffer{}, []etag.Family{etag.MD5up}); err != nil {
			b.Fatal(err)
		}
	}
}
