package qc

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/testutil"
)

// readFASTQ accumulates every read of a FASTQ file, compressed or not.
func readFASTQ(t testing.TB, path string) *Reads {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ScanFASTQ(context.Background(), f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return r
}

// fastqcModules splits a fastqc_data.txt into its modules' rows, by title;
// the status of each is under the key title+" status".
func fastqcModules(t testing.TB, text []byte) map[string][][]string {
	t.Helper()
	modules := map[string][][]string{}
	title := ""
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, ">>END_MODULE"):
			title = ""
		case strings.HasPrefix(line, ">>"):
			var status string
			title, status, _ = strings.Cut(line[2:], "\t")
			modules[title+" status"] = [][]string{{status}}
			modules[title] = [][]string{}
		case strings.HasPrefix(line, "#"):
		case title != "":
			modules[title] = append(modules[title], strings.Split(line, "\t"))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return modules
}

// runFastQC runs the real FastQC once over all paths (one Java start) and
// returns each file's fastqc_data.txt, by path.
func runFastQC(t testing.TB, paths ...string) map[string][]byte {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{"--quiet", "--extract", "--outdir", dir}, paths...)
	testutil.Run(t, testutil.RequireTool(t, "fastqc"), args...)
	texts := map[string][]byte{}
	for _, path := range paths {
		name := filepath.Base(path)
		for _, ext := range []string{".gz", ".bz2", ".bam", ".fastq", ".fq"} {
			name = strings.TrimSuffix(name, ext)
		}
		text, err := os.ReadFile(filepath.Join(dir, name+"_fastqc", "fastqc_data.txt"))
		if err != nil {
			t.Fatal(err)
		}
		texts[path] = text
	}
	return texts
}

// fastqcFiles are FASTQ files from Debian's example packages that FastQC
// reads: short, long, variable-length, paired, Phred+64 and nanopore reads.
var fastqcFiles = []string{
	"/usr/share/doc/bowtie2/examples/reads/reads_1.fq.gz",
	"/usr/share/doc/bowtie2/examples/reads/longreads.fq.gz",
	"/usr/share/doc/seqkit-examples/tests/reads_2.fq.gz",
	"/usr/share/doc/seqkit-examples/tests/Illimina1.5.fq",
	"/usr/share/doc/seqkit-examples/tests/Illimina1.8.fq.gz",
	"/usr/share/doc/seqkit-examples/tests/nanopore.fq.gz",
	"/usr/share/htslib-test/test/fastq/r1.fq",
}

// TestMatchesFastQC runs FastQC and Reads over the same files and compares
// every number of the modules both compute.
func TestMatchesFastQC(t *testing.T) {
	for _, path := range fastqcFiles {
		testutil.RequireDir(t, filepath.Dir(path))
	}
	// An unaligned BAM of the lambda reads, as `samtools import` makes it.
	samtools := testutil.RequireTool(t, "samtools")
	ubam := filepath.Join(t.TempDir(), "unaligned.bam")
	testutil.Run(t, samtools, "import", "-o", ubam, fastqcFiles[0])
	texts := runFastQC(t, append(fastqcFiles, ubam)...)
	for _, path := range append(fastqcFiles, ubam) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want := fastqcModules(t, texts[path])
			reads := readFASTQ
			if path == ubam {
				reads = func(t testing.TB, path string) *Reads { _, r := readBAM(t, path); return r }
			}
			var ours bytes.Buffer
			if err := WriteFastQC(&ours, filepath.Base(path), reads(t, path)); err != nil {
				t.Fatal(err)
			}
			got := fastqcModules(t, ours.Bytes())
			for _, title := range []string{"Basic Statistics", "Per base sequence quality", "Per sequence quality scores",
				"Per base sequence content", "Per sequence GC content", "Per base N content", "Sequence Length Distribution"} {
				compareTable(t, title, got[title], want[title])
				if g, w := got[title+" status"], want[title+" status"]; len(g) == 0 || len(w) == 0 || g[0][0] != w[0][0] {
					t.Errorf("%s: status %v, FastQC's %v", title, g, w)
				}
			}
			// Duplication and over-represented sequences are estimated
			// from the first 100000 distinct sequences, as FastQC does.
			for _, title := range []string{"Sequence Duplication Levels", "Overrepresented sequences"} {
				g, w := got[title], want[title]
				if title == "Overrepresented sequences" {
					// The possible source comes from FastQC's list of
					// contaminants, which seqstore does not have; rows of
					// equal counts come in no particular order.
					g, w = overrepresentedRows(g), overrepresentedRows(w)
				}
				compareTable(t, title, g, w)
				if gs, ws := got[title+" status"], want[title+" status"]; len(gs) == 0 || len(ws) == 0 || gs[0][0] != ws[0][0] {
					t.Errorf("%s: status %v, FastQC's %v", title, gs, ws)
				}
			}
			const total = "#Total Deduplicated Percentage\t"
			if g, w := lineStarting(ours.Bytes(), total), lineStarting(texts[path], total); g != w || w == "" {
				t.Errorf("%q, FastQC %q", g, w)
			}
		})
	}
}

// compareTable compares two module tables cell by cell: text exactly,
// numbers to a relative 1e-9 (FastQC prints doubles as Java does, and
// sums some in another order).
func compareTable(t *testing.T, title string, got, want [][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d rows, FastQC has %d\nours: %v\nFastQC: %v", title, len(got), len(want), got, want)
		return
	}
	bad := 0
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Errorf("%s row %d: %v, FastQC %v", title, i, got[i], want[i])
			continue
		}
		for j := range want[i] {
			if got[i][j] == want[i][j] {
				continue
			}
			g, err1 := strconv.ParseFloat(got[i][j], 64)
			w, err2 := strconv.ParseFloat(want[i][j], 64)
			if err1 == nil && err2 == nil && math.Abs(g-w) <= 1e-9*math.Max(1, math.Abs(w)) {
				continue
			}
			if bad++; bad <= 5 {
				t.Errorf("%s row %d: %v, FastQC %v", title, i, got[i], want[i])
			}
		}
	}
}

// overrepresentedRows drops the possible source and orders the rows by
// count, then sequence.
func overrepresentedRows(rows [][]string) [][]string {
	var out [][]string
	for _, r := range rows {
		out = append(out, r[:min(len(r), 3)])
	}
	slices.SortStableFunc(out, func(a, b []string) int {
		ca, _ := strconv.Atoi(a[1])
		cb, _ := strconv.Atoi(b[1])
		return cmp.Or(cmp.Compare(cb, ca), strings.Compare(a[0], b[0]))
	})
	return out
}

// lineStarting returns the line of text that starts with prefix.
func lineStarting(text []byte, prefix string) string {
	for _, line := range strings.Split(string(text), "\n") {
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	return ""
}
