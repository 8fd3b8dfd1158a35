// Package bamtest makes the real BAM files that seqstore's BAM, BAI and
// analysis tests compare against samtools: bowtie2's lambda phage example
// reads aligned with minimap2, its unaligned example BAM, and every SAM and
// BAM file of htslib's test suite that samtools itself reads. Everything is
// made at test time with the Debian tools, in the test's temporary folder.
package bamtest

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/format/bgzf"
	"github.com/seqstore/seqstore/internal/testutil"
	"github.com/seqstore/seqstore/internal/testutil/heapcap"
)

// BowtieExamples is where Debian's bowtie2-examples puts its data.
const BowtieExamples = "/usr/share/doc/bowtie2/examples"

// HtslibTests is where Debian's htslib-test puts htslib's test files.
const HtslibTests = "/usr/share/htslib-test/test"

// Shell runs a bash script in dir, failing the test with its output when it
// fails.
func Shell(t testing.TB, dir, script string) {
	t.Helper()
	cmd := exec.Command("bash", "-c", "set -euo pipefail\n"+script)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s\n%s", err, script, out)
	}
}

// Lambda aligns bowtie2's paired lambda reads and its long reads with
// minimap2 and sorts them by coordinate: a BAM with proper pairs, unmapped
// mates placed beside their mates, secondary and supplementary records,
// soft clips and the usual tags. It returns the BAM and the reference FASTA.
func Lambda(t testing.TB) (bam, ref string) {
	t.Helper()
	testutil.RequireTool(t, "samtools")
	testutil.RequireTool(t, "minimap2")
	ex := testutil.RequireDir(t, BowtieExamples)
	dir := t.TempDir()
	Shell(t, dir, `
gzip -dc `+ex+`/reference/lambda_virus.fa.gz > ref.fa
minimap2 -a -x sr ref.fa `+ex+`/reads/reads_1.fq.gz `+ex+`/reads/reads_2.fq.gz 2>/dev/null > pairs.sam
minimap2 -a -x map-ont ref.fa `+ex+`/reads/longreads.fq.gz 2>/dev/null | grep -v '^@' > long.sam
cat pairs.sam long.sam | samtools sort -o aligned.bam - 2>/dev/null`)
	return filepath.Join(dir, "aligned.bam"), filepath.Join(dir, "ref.fa")
}

// Unaligned returns bowtie2's example unaligned BAM (26,000 unmapped paired
// reads), gunzipped.
func Unaligned(t testing.TB) string {
	t.Helper()
	ex := testutil.RequireDir(t, BowtieExamples)
	return testutil.GunzipTo(t, filepath.Join(ex, "reads/combined_reads.bam.gz"), t.TempDir())
}

// Case is one BAM file of the corpus.
type Case struct {
	Name string // the source file, relative to HtslibTests
	Path string // the BAM
}

// HtslibCorpus converts every SAM file of htslib's test suite to BAM with
// samtools view -b, keeping those samtools can also read back, and adds
// the suite's own BAM files. These are the edge cases: every tag type, B
// arrays, '*' fields, padded and odd CIGARs, long references, no @SQ lines.
func HtslibCorpus(t testing.TB) []Case {
	t.Helper()
	testutil.RequireTool(t, "samtools")
	root := testutil.RequireDir(t, HtslibTests)
	var sams, bams []string
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		switch {
		case strings.HasSuffix(path, ".sam"):
			sams = append(sams, path)
		case strings.HasSuffix(path, ".bam"):
			bams = append(bams, path)
		}
		return nil
	})
	sort.Strings(sams)
	dir := t.TempDir()
	var cases []Case
	for i, s := range sams {
		out := filepath.Join(dir, strings.ReplaceAll(strings.TrimSuffix(filepath.Base(s), ".sam"), "#", "_")+"."+strconv.Itoa(i)+".bam")
		if exec.Command("samtools", "view", "--no-PG", "-b", "-o", out, s).Run() != nil {
			continue // samtools refuses it
		}
		if exec.Command("samtools", "view", "-o", "/dev/null", out).Run() != nil {
			continue
		}
		rel, _ := filepath.Rel(root, s)
		cases = append(cases, Case{Name: rel, Path: out})
	}
	for _, b := range bams {
		if exec.Command("samtools", "view", "-o", "/dev/null", b).Run() != nil {
			continue
		}
		rel, _ := filepath.Rel(root, b)
		cases = append(cases, Case{Name: rel, Path: b})
	}
	if len(cases) < 50 {
		t.Fatalf("only %d htslib-test files made readable BAMs", len(cases))
	}
	return cases
}

// Stream returns BGZF made of head and then tail repeated until total
// uncompressed bytes, compressed as it is read, so that a test can feed a
// reader a hostile file of gigabytes without making or holding it. Close
// the reader to stop the compressing goroutine.
func Stream(head, tail []byte, total int64) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		w, err := bgzf.NewWriterLevel(pw, 1)
		if err == nil {
			_, err = io.Copy(w, heapcap.Repeat(head, tail, total))
			if cerr := w.Close(); err == nil {
				err = cerr
			}
		}
		pw.CloseWithError(err)
	}()
	return pr
}
