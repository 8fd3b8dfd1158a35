package analyze

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/etag"
	"github.com/seqstore/seqstore/internal/format/cram"
	"github.com/seqstore/seqstore/internal/format/fasta"
	"github.com/seqstore/seqstore/internal/format/sam"
	"github.com/seqstore/seqstore/internal/testutil"
)

// samtoolsView returns what `samtools view` prints for a CRAM read from
// standard input, so that generated read names carry the same prefix ("-")
// as analyze.CRAM's; ref may be empty.
func samtoolsView(t testing.TB, file, ref string, args ...string) ([]byte, error) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all := []string{"view"}
	if ref != "" {
		all = append(all, "-T", ref)
	}
	all = append(append(all, args...), "-")
	cmd := exec.Command("samtools", all...)
	cmd.Stdin = f
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("samtools %v: %v: %s", all, err, stderr.Bytes())
	}
	return out, nil
}

// countPrimary counts the records and bases of SAM text that samtools
// counts with -F 0x900.
func countPrimary(text []byte) (reads, bases int64) {
	for _, line := range strings.Split(string(text), "\n") {
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

func openRef(t testing.TB, path string) cram.ReferenceSource {
	t.Helper()
	if path == "" {
		return nil
	}
	fa, err := fasta.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fa.Close() })
	return fa
}

// checkCRAM analyses file and compares the ETag with the MD5 of samtools'
// text and the counts with samtools' primary records. It returns the result
// and false when samtools itself cannot read the file.
func checkCRAM(t *testing.T, file, ref string) (*Result, bool) {
	t.Helper()
	want, err := samtoolsView(t, file, ref)
	if err != nil {
		return nil, false
	}
	primary, err := samtoolsView(t, file, ref, "-F", "0x900")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	res, err := CRAM(context.Background(), src, openRef(t, ref), nil, []etag.Family{etag.MD5up, etag.SHA256up}, Limits{})
	if err != nil {
		t.Fatalf("samtools reads it, analyze.CRAM refuses: %v", err)
	}
	sum := md5.Sum(want)
	if got := res.ETags[etag.MD5up][0]; got != hex.EncodeToString(sum[:]) {
		t.Errorf("ETag %s, md5 of samtools view is %x", got, sum)
		showFirstDifference(t, file, ref, want)
	}
	reads, bases := countPrimary(primary)
	if res.ReadCount != reads || res.BaseCount != bases {
		t.Errorf("counts %d reads/%d bases, samtools %d/%d", res.ReadCount, res.BaseCount, reads, bases)
	}
	if res.FileType != FileTypeCRAM {
		t.Errorf("file type %s", res.FileType)
	}
	// Asked for no ETag, the analysis renders no text but counts the same.
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	bare, err := CRAM(context.Background(), src, openRef(t, ref), nil, nil, Limits{})
	if err != nil {
		t.Fatalf("without ETags: %v", err)
	}
	if bare.ReadCount != reads || bare.BaseCount != bases || len(bare.ETags) != 0 {
		t.Errorf("without ETags: counts %d reads/%d bases and ETags %v; samtools %d/%d, and no ETags", bare.ReadCount, bare.BaseCount, bare.ETags, reads, bases)
	}
	return res, true
}

// showFirstDifference decodes file with the cram package and reports the
// first line that differs from samtools' text.
func showFirstDifference(t *testing.T, file, ref string, want []byte) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		return
	}
	defer f.Close()
	rd, err := cram.NewReaderOptions(f, openRef(t, ref), cram.Options{NamePrefix: CRAMNamePrefix})
	if err != nil {
		t.Logf("reader: %v", err)
		return
	}
	defer rd.Close()
	lines := strings.SplitAfter(string(want), "\n")
	var rec sam.Record
	for i := 0; ; i++ {
		err := rd.Read(&rec)
		if err != nil {
			if err != io.EOF || i < len(lines)-1 {
				t.Logf("after %d records: %v", i, err)
			}
			return
		}
		got, _ := sam.AppendText(nil, &rec, rd.Header().References)
		if i >= len(lines) || string(got) != lines[i] {
			w := "(none)"
			if i < len(lines) {
				w = lines[i]
			}
			t.Logf("record %d\ngot  %q\nwant %q", i+1, got, w)
			return
		}
	}
}

// lambdaCRAMSources makes the sorted lambda alignments once per test.
func lambdaSources(t *testing.T) (bamFile, ref string) {
	return lambdaBAM(t)
}

// Lambda phage reads aligned with minimap2, written as CRAM 3.0 and 3.1 in
// every profile samtools offers, analyse to samtools' text and counts.
func TestCRAMMatchesSamtoolsOnLambda(t *testing.T) {
	bamFile, ref := lambdaSources(t)
	dir := t.TempDir()
	for _, format := range []string{
		"cram,version=3.0", "cram,version=3.1",
		"cram,version=3.0,fast", "cram,version=3.0,small",
		"cram,version=3.1,fast", "cram,version=3.1,normal", "cram,version=3.1,small", "cram,version=3.1,archive",
		"cram,version=3.0,embed_ref=1", "cram,version=3.1,no_ref=1",
		"cram,version=3.0,seqs_per_slice=300,slices_per_container=3",
		"cram,version=3.1,multi_seq_per_slice=1,seqs_per_slice=500",
	} {
		t.Run(format, func(t *testing.T) {
			file := filepath.Join(dir, strings.NewReplacer(",", "_", "=", "").Replace(format)+".cram")
			testutil.Run(t, "samtools", "view", "-T", ref, "-O", format, "-o", file, bamFile)
			res, ok := checkCRAM(t, file, ref)
			if !ok {
				t.Fatal("samtools cannot read the CRAM it wrote")
			}
			if res.Alignment != Aligned || res.ReadCount == 0 {
				t.Errorf("alignment %s, %d reads", res.Alignment, res.ReadCount)
			}
		})
	}
}

// The CRAI written during analysis answers region queries exactly as the
// index samtools builds itself.
func TestCRAMIndexAnswersLikeSamtools(t *testing.T) {
	bamFile, ref := lambdaSources(t)
	dir := t.TempDir()
	for _, format := range []string{"cram,version=3.0,seqs_per_slice=200", "cram,version=3.1,seqs_per_slice=1000,slices_per_container=2"} {
		t.Run(format, func(t *testing.T) {
			file := filepath.Join(dir, "x.cram")
			testutil.Run(t, "samtools", "view", "-T", ref, "-O", format, "-o", file, bamFile)
			src, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			var idx bytes.Buffer
			res, err := CRAM(context.Background(), src, openRef(t, ref), &idx, []etag.Family{etag.MD5up}, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Indexed {
				t.Fatal("a coordinate-sorted CRAM was not indexed")
			}
			ours := filepath.Join(dir, "ours.crai")
			if err := os.WriteFile(ours, idx.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			testutil.Run(t, "samtools", "index", file)
			name := "gi|9626243|ref|NC_001416.1|"
			for _, region := range []string{name, name + ":1-100", name + ":5000-5200", name + ":20000-20001", name + ":48400-48502", "*"} {
				got := testutil.Run(t, "samtools", "view", "-T", ref, "-X", file, ours, region)
				want := testutil.Run(t, "samtools", "view", "-T", ref, file, region)
				if !bytes.Equal(got, want) {
					t.Errorf("region %s: %d bytes through our CRAI, %d through samtools' index", region, len(got), len(want))
				}
			}
		})
	}
}

// An unsorted CRAM is analysed but not indexed.
func TestCRAMUnsortedIsNotIndexed(t *testing.T) {
	bamFile, ref := lambdaSources(t)
	dir := t.TempDir()
	text := testutil.Run(t, "samtools", "view", "-h", bamFile)
	lines := strings.Split(strings.TrimSuffix(string(text), "\n"), "\n")
	var head, body []string
	for _, l := range lines {
		if strings.HasPrefix(l, "@") {
			if strings.HasPrefix(l, "@HD") {
				l = "@HD\tVN:1.6\tSO:unsorted"
			}
			head = append(head, l)
		} else {
			body = append(body, l)
		}
	}
	for i, j := 0, len(body)-1; i < j; i, j = i+1, j-1 {
		body[i], body[j] = body[j], body[i]
	}
	samFile := filepath.Join(dir, "rev.sam")
	if err := os.WriteFile(samFile, []byte(strings.Join(append(head, body...), "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "rev.cram")
	testutil.Run(t, "samtools", "view", "-T", ref, "-O", "cram,version=3.1", "-o", file, samFile)
	checkCRAM(t, file, ref)
	src, _ := os.Open(file)
	defer src.Close()
	var idx bytes.Buffer
	res, err := CRAM(context.Background(), src, openRef(t, ref), &idx, []etag.Family{etag.MD5up}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Indexed || idx.Len() != 0 {
		t.Errorf("an unsorted CRAM was indexed (%d bytes)", idx.Len())
	}
}

// htslibRef names the reference of an htslib-test file: the part of its
// name before '#' or '.', plus .fa, when that file exists.
func htslibRef(file string) string {
	base := filepath.Base(file)
	if i := strings.IndexAny(base, "#."); i > 0 {
		ref := filepath.Join(filepath.Dir(file), base[:i]+".fa")
		if _, err := os.Stat(ref + ".fai"); err == nil {
			return ref
		}
	}
	return ""
}

// Every SAM file of htslib's test suite that samtools writes as CRAM 3.0
// and 3.1 (against its reference when the suite has one, without otherwise)
// analyses to samtools' text and counts; so do the suite's own CRAMs and
// those of staden io_lib's examples.
func TestCRAMCorpusAgainstSamtools(t *testing.T) {
	testutil.RequireTool(t, "samtools")
	root := testutil.RequireDir(t, "/usr/share/htslib-test/test")
	var sams []string
	for _, pattern := range []string{"*.sam", "*/*.sam"} {
		m, _ := filepath.Glob(filepath.Join(root, pattern))
		sams = append(sams, m...)
	}
	dir := t.TempDir()
	checked := 0
	for _, f := range sams {
		ref := htslibRef(f)
		for _, version := range []string{"3.0", "3.1"} {
			name := strings.TrimPrefix(f, root+"/") + "/" + version
			t.Run(name, func(t *testing.T) {
				format := "cram,version=" + version
				if ref == "" {
					format += ",no_ref=1"
				}
				args := []string{"view", "-O", format, "-o", filepath.Join(dir, "c.cram")}
				if ref != "" {
					args = append(args, "-T", ref)
				}
				if err := exec.Command("samtools", append(args, f)...).Run(); err != nil {
					t.Skip("samtools cannot write it as CRAM")
				}
				if _, ok := checkCRAM(t, filepath.Join(dir, "c.cram"), ref); !ok {
					t.Skip("samtools cannot read the CRAM it wrote")
				}
				checked++
			})
		}
	}
	crams, _ := filepath.Glob(filepath.Join(root, "*.cram"))
	staden := "/usr/share/doc/staden-io-lib/test/data"
	if m, _ := filepath.Glob(filepath.Join(staden, "*.cram*")); len(m) > 0 {
		crams = append(crams, m...)
	}
	for _, f := range crams {
		t.Run(filepath.Base(f), func(t *testing.T) {
			file, ref := f, htslibRef(f)
			if strings.HasSuffix(f, ".gz") {
				file = filepath.Join(dir, strings.TrimSuffix(filepath.Base(f), ".gz"))
				out, err := exec.Command("gzip", "-dc", f).Output()
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, out, 0o644); err != nil {
					t.Fatal(err)
				}
				ref = htslibRef(filepath.Join(filepath.Dir(f), filepath.Base(file)))
			}
			if ref == "" && filepath.Base(file) == "range.cram" {
				ref = filepath.Join(root, "ce.fa")
			}
			if ref != "" {
				// Copy the reference so that building a missing .fai never
				// writes into the package's directory.
				ref = copyRef(t, ref, dir)
			}
			if _, ok := checkCRAM(t, file, ref); !ok {
				t.Skip("samtools cannot read it")
			}
			checked++
		})
	}
	if checked < 100 {
		t.Errorf("only %d CRAMs checked", checked)
	}
}

func copyRef(t *testing.T, ref, dir string) string {
	t.Helper()
	out := filepath.Join(dir, filepath.Base(ref))
	if _, err := os.Stat(out); err == nil {
		return out
	}
	b, err := os.ReadFile(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// Broken CRAMs fail with errors that say where and what.
func TestCRAMBrokenFiles(t *testing.T) {
	bamFile, ref := lambdaSources(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "ok.cram")
	testutil.Run(t, "samtools", "view", "-T", ref, "-O", "cram,version=3.0", "-o", file, bamFile)
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// A reference whose lambda sequence has one base changed.
	refBytes, _ := os.ReadFile(ref)
	wrong := bytes.Replace(refBytes, []byte("GGGCGGCGACCT"), []byte("GGGCGGCGACCA"), 1)
	wrongRef := filepath.Join(dir, "wrong.fa")
	if err := os.WriteFile(wrongRef, wrong, 0o644); err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Clone(good)
	corrupt[len(corrupt)/2] ^= 0x55
	tests := []struct {
		name string
		data []byte
		ref  string
		want []string
	}{
		{"truncated in the middle", good[:len(good)/2], ref, []string{"source1", "container", "truncated"}},
		{"truncated in the file definition", good[:10], ref, []string{"source1"}},
		{"a flipped byte", corrupt, ref, []string{"source1", "container", "CRC"}},
		{"the wrong reference", good, wrongRef, []string{"source1", "slice", "MD5", "gi|9626243|ref|NC_001416.1|"}},
		{"no reference", good, "", []string{"source1", "reference"}},
		{"BAM instead", mustRead(t, bamFile), ref, []string{"source1", "BAM"}},
		{"empty", nil, ref, []string{"source1", "empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CRAM(context.Background(), bytes.NewReader(tt.data), openRef(t, tt.ref), nil, []etag.Family{etag.MD5up}, Limits{})
			if err == nil {
				t.Fatal("no error")
			}
			var ae *Error
			if !errors.As(err, &ae) {
				t.Errorf("error %T is not an analyze.Error: %v", err, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(w)) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func mustRead(t testing.TB, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkCRAM analyses the lambda alignments as CRAM; compare with
// BenchmarkSamtoolsViewCRAM, samtools' time for the same text and digest.
func BenchmarkCRAM(b *testing.B) {
	for _, format := range []string{"cram,version=3.0", "cram,version=3.1", "cram,version=3.1,archive"} {
		b.Run(format, func(b *testing.B) {
			data, ref := benchCRAM(b, format)
			fa := openRef(b, ref)
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			for range b.N {
				if _, err := CRAM(context.Background(), bytes.NewReader(data), fa, nil, []etag.Family{etag.MD5up}, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchCRAM(b *testing.B, format string) ([]byte, string) {
	bamFile, ref := lambdaBAM(b)
	file := filepath.Join(b.TempDir(), "bench.cram")
	testutil.Run(b, "samtools", "view", "-T", ref, "-O", format, "-o", file, bamFile)
	data, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	return data, ref
}

// BenchmarkSamtoolsViewCRAM times `samtools view -@2 -T ref file.cram |
// md5sum` on the files BenchmarkCRAM analyses.
func BenchmarkSamtoolsViewCRAM(b *testing.B) {
	for _, format := range []string{"cram,version=3.0", "cram,version=3.1", "cram,version=3.1,archive"} {
		b.Run(format, func(b *testing.B) {
			data, ref := benchCRAM(b, format)
			file := filepath.Join(b.TempDir(), "bench.cram")
			if err := os.WriteFile(file, data, 0o644); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			for range b.N {
				cmd := exec.Command("bash", "-c", `samtools view -@2 -T "$1" "$2" | md5sum`, "-", ref, file)
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("%v: %s", err, out)
				}
			}
		})
	}
}
