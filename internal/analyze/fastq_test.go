package analyze

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/etag"
	"github.com/seqstore/seqstore/internal/format/bgzf"
	"github.com/seqstore/seqstore/internal/format/compress"
	"github.com/seqstore/seqstore/internal/testutil"
)

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// pipe runs a command with stdin and returns its standard output.
func pipe(t testing.TB, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	testutil.RequireTool(t, name)
	cmd := exec.Command(name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, stderr.Bytes())
	}
	return out
}

// digest runs md5sum, sha256sum or sha512sum over b.
func digest(t testing.TB, f etag.Family, b []byte) string {
	tool := map[etag.Family]string{etag.MD5up: "md5sum", etag.SHA256up: "sha256sum", etag.SHA512up: "sha512sum"}[f]
	return strings.Fields(string(pipe(t, b, tool)))[0]
}

// seqkitStats returns the records and bases `seqkit stats -T` counts in
// the file.
func seqkitStats(t testing.TB, path string) (int64, int64) {
	t.Helper()
	out := testutil.Run(t, testutil.RequireTool(t, "seqkit"), "stats", "-T", path)
	return parseStats(t, out)
}

// TestFASTQAgainstTools analyses bowtie2's paired lambda reads in every
// compressed form and checks counts against seqkit, ETags against
// md5sum/sha256sum/sha512sum of `gzip -dc`, and the stored copies with
// bgzip -d.
func TestFASTQAgainstTools(t *testing.T) {
	dir := testutil.RequireDir(t, "/usr/share/doc/bowtie2/examples/reads")
	var paths [2]string
	var plain [2][]byte
	var reads, bases int64
	for i := range paths {
		paths[i] = filepath.Join(dir, fmt.Sprintf("reads_%d.fq.gz", i+1))
		plain[i] = testutil.Run(t, testutil.RequireTool(t, "gzip"), "-dc", paths[i])
		n, b := seqkitStats(t, paths[i])
		reads += n
		bases += b
	}
	var wantSums = map[etag.Family][]string{}
	for _, f := range etag.Families {
		wantSums[f] = []string{digest(t, f, plain[0]), digest(t, f, plain[1])}
	}
	// Two gzip members split at a record boundary near the middle, as
	// `cat a.gz b.gz` makes.
	multi := func(b []byte) []byte {
		half := bytes.Index(b[len(b)/2:], []byte("\n@")) + len(b)/2 + 1
		return append(pipe(t, b[:half], "gzip", "-c"), pipe(t, b[half:], "gzip", "-c")...)
	}
	forms := []struct {
		name string
		make func(b []byte) []byte
	}{
		{"plain", func(b []byte) []byte { return b }},
		{"gzip", func(b []byte) []byte { return pipe(t, b, "gzip", "-c") }},
		{"multi-member gzip", multi},
		{"bgzip", func(b []byte) []byte { return pipe(t, b, "bgzip", "-c") }},
	}
	for _, form := range forms {
		t.Run(form.name, func(t *testing.T) {
			var stored [2]bytes.Buffer
			uploaded := [2][]byte{form.make(plain[0]), form.make(plain[1])}
			res, err := FASTQ(context.Background(),
				[]io.Reader{bytes.NewReader(uploaded[0]), bytes.NewReader(uploaded[1])},
				[]io.Writer{&stored[0], &stored[1]}, etag.Families, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := [2]int64{res.ReadCount, res.BaseCount}, [2]int64{reads, bases}; got != want {
				t.Errorf("reads and bases %v, seqkit stats %v", got, want)
			}
			if res.FileType != FileTypeFASTQ || res.Alignment != Unaligned {
				t.Errorf("file type %s, alignment %s", res.FileType, res.Alignment)
			}
			for _, f := range etag.Families {
				if got, want := strings.Join(res.ETags[f], " "), strings.Join(wantSums[f], " "); got != want {
					t.Errorf("%s ETags %s, want %s", f, got, want)
				}
			}
			for i := range stored {
				if form.name != "plain" {
					// A compressed source is kept as it arrived.
					if !bytes.Equal(stored[i].Bytes(), uploaded[i]) {
						t.Errorf("stored copy %d is %d bytes that differ from the %d uploaded", i+1, stored[i].Len(), len(uploaded[i]))
					}
					continue
				}
				if !bytes.HasSuffix(stored[i].Bytes(), bgzf.EOFMarker) {
					t.Errorf("stored copy %d lacks the BGZF EOF marker", i+1)
				}
				back := pipe(t, stored[i].Bytes(), "bgzip", "-d", "-c")
				if !bytes.Equal(back, plain[i]) {
					t.Errorf("stored copy %d decompresses with bgzip -d to %d bytes, want the %d of the source", i+1, len(back), len(plain[i]))
				}
				// No larger than bgzip's, built with libdeflate as Debian's
				// is: package deflate's promise.
				if bgzipped := pipe(t, plain[i], "bgzip", "-c"); stored[i].Len() > len(bgzipped) {
					t.Errorf("stored copy %d is %d bytes, more than bgzip's %d", i+1, stored[i].Len(), len(bgzipped))
				}
			}
		})
	}
}

// A plain FASTQ's stored copy follows the store level: level 1 is the fast
// deflater's, larger than the default's; both hold the source.
func TestFASTQStoreLevel(t *testing.T) {
	dir := testutil.RequireDir(t, "/usr/share/doc/bowtie2/examples/reads")
	plain := testutil.Run(t, testutil.RequireTool(t, "gzip"), "-dc", filepath.Join(dir, "reads_1.fq.gz"))
	size := map[string]int{}
	for _, c := range []struct {
		name string
		ctx  context.Context
	}{
		{"default", context.Background()},
		{"level 1", WithFASTQStoreLevel(context.Background(), 1)},
	} {
		var stored bytes.Buffer
		if _, err := FASTQ(c.ctx, []io.Reader{bytes.NewReader(plain)}, []io.Writer{&stored}, etag.Families, Limits{}); err != nil {
			t.Fatal(err)
		}
		if back := pipe(t, stored.Bytes(), "bgzip", "-d", "-c"); !bytes.Equal(back, plain) {
			t.Fatalf("%s: the stored copy decompresses to %d bytes, want the %d of the source", c.name, len(back), len(plain))
		}
		size[c.name] = stored.Len()
	}
	if size["level 1"] <= size["default"] {
		t.Errorf("stored %d bytes at level 1 and %d at the default level, want level 1 larger", size["level 1"], size["default"])
	}
}

// TestFASTQSingleSources checks single-source analyses of Debian's test
// FASTQs, compressed in the test, against seqkit and md5sum.
func TestFASTQSingleSources(t *testing.T) {
	files := []string{
		testutil.RequireDir(t, "/usr/share/htslib-test/test/fastq") + "/multiline.fq",
		"/usr/share/htslib-test/test/fastq/longline.fq",
		"/usr/share/htslib-test/test/fastq/minimal.fq",
		testutil.RequireDir(t, "/usr/share/doc/seqkit-examples/tests") + "/Illimina1.5.fq",
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		wantReads, wantBases := seqkitStats(t, f)
		for _, form := range []string{"plain", "gzip", "bgzip"} {
			t.Run(filepath.Base(f)+"/"+form, func(t *testing.T) {
				in := raw
				if form != "plain" {
					in = pipe(t, raw, form, "-c")
				}
				res, err := FASTQ(context.Background(), []io.Reader{bytes.NewReader(in)}, []io.Writer{io.Discard}, []etag.Family{etag.MD5up}, Limits{})
				if err != nil {
					t.Fatal(err)
				}
				if got, want := [2]int64{res.ReadCount, res.BaseCount}, [2]int64{wantReads, wantBases}; got != want {
					t.Errorf("reads and bases %v, seqkit %v", got, want)
				}
				if got, want := res.ETags[etag.MD5up][0], digest(t, etag.MD5up, raw); got != want {
					t.Errorf("ETag %s, md5sum %s", got, want)
				}
			})
		}
	}
}

// fq builds FASTQ text from name, sequence and quality triples.
func fq(recs ...string) []byte {
	var b bytes.Buffer
	for i := 0; i+2 < len(recs); i += 3 {
		fmt.Fprintf(&b, "@%s\n%s\n+\n%s\n", recs[i], recs[i+1], recs[i+2])
	}
	return b.Bytes()
}

func TestFASTQDefects(t *testing.T) {
	three := fq("r1/1", "ACGT", "IIII", "r2/1", "ACGT", "IIII", "r3/1", "ACGT", "IIII")
	mates := fq("r1/2", "TTTT", "####", "r2/2", "TTTT", "####", "r3/2", "TTTT", "####")
	big := bytes.Repeat(three, 2000)
	random, _ := syntheticPair(300000)
	truncated := gz(t, random)[:3000]
	badBlock := func() []byte {
		var b bytes.Buffer
		w, _ := bgzf.NewWriterLevel(&b, 1)
		w.Write(random)
		w.Close()
		out := b.Bytes()
		// The CRC of the first block sits 8 bytes before the second
		// block, whose offset the first block's BSIZE gives.
		second := int(out[16]) | int(out[17])<<8 + 1
		out[second-8] ^= 0xff
		return out
	}()
	tests := []struct {
		name    string
		sources [][]byte
		want    string
	}{
		{"an empty file", [][]byte{{}}, "source1: the file holds no FASTQ records: it is empty"},
		{"an empty gzip", [][]byte{gz(t, nil)}, "source1: the file holds no FASTQ records: it is empty"},
		{"only blank lines", [][]byte{[]byte("\n\n\r\n")}, "source1: the file holds no FASTQ records"},
		{"an empty mate file", [][]byte{three, {}}, "source2: the file holds no FASTQ records: it is empty"},
		{"a missing plus line", [][]byte{[]byte("@r1\nACGT\n@r2\nACGT\n+\n!!!!\n")},
			`source1, record 1 (line 3): no '+' line after the sequence: the next line is a name line "@r2"`},
		{"a bad quality length", [][]byte{append(fq("r1", "ACGT", "IIII"), "@r2\nACGT\n+\nIIIII\n"...)},
			"source1, record 2 (line 8): quality length 5 differs from sequence length 4"},
		{"a quality below '!'", [][]byte{[]byte("@r1\nACGT\n+\n!! !\n")},
			"source1, record 1 (line 4): quality character ' ' (byte 32) at position 3 is outside the Phred+33 range '!'..'~'"},
		{"a quality above '~'", [][]byte{fq("r1", "ACGT", "II\x80I")},
			"source1, record 1 (line 4): quality character '\\x80' (byte 128) at position 3 is outside the Phred+33 range '!'..'~'"},
		{"a bad base", [][]byte{fq("r1", "AC9T", "IIII")},
			"source1, record 1 (line 2): sequence has an invalid character '9' at position 3"},
		{"a truncated record", [][]byte{[]byte("@r1\nACGT\n+\n!!")},
			"source1, record 1 (line 4): the file ends inside the qualities: quality length 2, sequence length 4"},
		{"a record cut before its qualities", [][]byte{[]byte("@r1\nACGT\n+\n")},
			"source1, record 1 (line 3): the file ends inside the qualities: quality length 0, sequence length 4"},
		{"a truncated gzip", [][]byte{truncated},
			"source1, byte offset 3000: gzip data truncated: the file ends after 3000 bytes in the middle of a gzip member"},
		{"a BGZF block with a bad CRC", [][]byte{badBlock},
			"source1, BGZF block at offset 0: CRC32 of the inflated data is"},
		{"binary garbage", [][]byte{{0x00, 0x01, 0x02, '\n'}}, "source1: this is binary data, not FASTQ text"},
		{"gzip-compressed binary", [][]byte{gz(t, []byte{7, 0, 0, 0, 1, 2, 3})}, "source1: this is gzip-compressed binary data, not FASTQ text"},
		{"text that is not FASTQ", [][]byte{[]byte("hello\nworld\n")}, `source1, record 1 (line 1): the first line does not start with '@' ("hello")`},
		{"FASTA", [][]byte{[]byte(">chr1\nACGT\n")}, "source1: this looks like FASTA (sequences without qualities), not FASTQ"},
		{"SAM", [][]byte{gz(t, []byte("@HD\tVN:1.6\n@SQ\tSN:c\tLN:9\n"))}, `source1: this looks like gzip-compressed SAM (a header line "@HD"), not FASTQ: convert it to BAM to upload it`},
		{"VCF", [][]byte{bgzipped([]byte("##fileformat=VCFv4.2\n#CHROM\tPOS\n"))}, "source1: this looks like BGZF-compressed VCF (variant calls), not FASTQ"},
		{"BAM", [][]byte{bgzipped([]byte("BAM\x01\x00\x00\x00\x00"))}, "source1: this looks like BAM (BGZF-compressed binary), not FASTQ: upload it with file type BAM or UBAM"},
		{"CRAM", [][]byte{[]byte("CRAM\x03\x00")}, "source1: this looks like CRAM, not FASTQ: upload it with file type CRAM"},
		{"xz", [][]byte{{0xfd, '7', 'z', 'X', 'Z', 0, 0, 4}}, "source1: xz compression is not supported: compress with gzip or bgzip"},
		{"unpaired names", [][]byte{three, fq("r1/2", "TTTT", "####", "r9/2", "TTTT", "####", "r3/2", "TTTT", "####")},
			`source2, record 2 (line 5): read name "r9" does not pair with source1's "r2"`},
		{"mates in another order", [][]byte{three, fq("r2/2", "T", "#", "r1/2", "T", "#", "r3/2", "T", "#")},
			`source2, record 1 (line 1): read name "r2" does not pair with source1's "r1"`},
		{"fewer mates", [][]byte{three, mates[:len(mates)/3*2]},
			"source2, end of file after record 2: source2 has 2 records but source1 has 3; the mates do not pair"},
		{"many fewer mates", [][]byte{big, mates},
			"source2, end of file after record 3: source2 has 3 records but source1 has 6000; the mates do not pair"},
		{"more mates", [][]byte{three[:len(three)/3], mates},
			"source2, record 2 (line 5): source2 has more records than source1, which ends after record 1; the mates do not pair"},
		// With defects in both sources the earliest record's is reported,
		// whichever goroutine meets its defect first.
		{"a pairing defect before a parse defect", [][]byte{append(three, "@r4/1\nA\n+\n"...), fq("r1/2", "T", "#", "rX/2", "T", "#")},
			`source2, record 2 (line 5): read name "rX" does not pair with source1's "r2"`},
		{"a parse defect before a pairing defect", [][]byte{fq("r1/1", "A", "#", "r2/1", "A", "##"), fq("r1/2", "T", "#", "r2/2", "T", "#", "rX/2", "T", "#")},
			"source1, record 2 (line 8): quality length 2 differs from sequence length 1"},
		{"a parse defect in source2 before one in source1", [][]byte{append(bytes.Repeat(three, 3000), "@bad"...), append(mates, "@r4/2\nT\n+\n##\n"...)},
			"source2, record 4 (line 16): quality length 2 differs from sequence length 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Repeat so that a message that depends on goroutine timing
			// shows itself.
			for range 5 {
				var srcs []io.Reader
				var stored []io.Writer
				for _, s := range tt.sources {
					srcs = append(srcs, bytes.NewReader(s))
					stored = append(stored, io.Discard)
				}
				_, err := FASTQ(context.Background(), srcs, stored, []etag.Family{etag.MD5up}, Limits{})
				var ae *Error
				if !errors.As(err, &ae) {
					t.Fatalf("got %v (%T), want an *analyze.Error", err, err)
				}
				if !strings.HasPrefix(err.Error(), tt.want) {
					t.Fatalf("got  %q\nwant %q", err, tt.want)
				}
			}
		})
	}
}

// TestFASTQNotFASTQFiles sends real files of other formats as FASTQ.
func TestFASTQNotFASTQFiles(t *testing.T) {
	dir := testutil.RequireDir(t, "/usr/share/htslib-test/test")
	vcf, err := os.ReadFile(dir + "/formatcols.vcf")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   func() []byte
		want string
	}{
		{"a BAM", func() []byte { b, _ := os.ReadFile(dir + "/colons.bam"); return b }, "source1: this looks like BAM (BGZF-compressed binary), not FASTQ"},
		{"a bgzipped VCF", func() []byte { return pipe(t, vcf, "bgzip", "-c") }, "source1: this looks like BGZF-compressed VCF (variant calls), not FASTQ"},
		{"a SAM", func() []byte { b, _ := os.ReadFile(dir + "/fieldarith.sam"); return b }, "source1: this looks like SAM"},
		{"a FASTA", func() []byte { b, _ := os.ReadFile(dir + "/c1.fa"); return b }, "source1: this looks like FASTA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FASTQ(context.Background(), []io.Reader{bytes.NewReader(tt.in())}, nil, []etag.Family{etag.MD5up}, Limits{})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q...", err, tt.want)
			}
		})
	}
}

func TestFASTQReadsCRLFAndMultiLine(t *testing.T) {
	in := "@r1 comment\r\nACGT\r\nAC\r\n+\r\n!!!!\r\n!!\r\n\r\n@r2/1\nA\n+r2\n@\n\n\n"
	res, err := FASTQ(context.Background(), []io.Reader{strings.NewReader(in)}, nil, []etag.Family{etag.SHA256up}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := [2]int64{res.ReadCount, res.BaseCount}, [2]int64{2, 7}; got != want {
		t.Fatalf("reads and bases %v, want %v", got, want)
	}
	if got, want := res.ETags[etag.SHA256up][0], digest(t, etag.SHA256up, []byte(in)); got != want {
		t.Errorf("ETag %s, sha256sum %s", got, want)
	}
}

// failingReader is bam_test.go's.

type failingWriter struct{ err error }

func (f failingWriter) Write(p []byte) (int, error) { return 0, f.err }

// bgzipped compresses b as BGZF.
func bgzipped(b []byte) []byte {
	var buf bytes.Buffer
	w := bgzf.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// failAfter takes n bytes, then fails every write.
type failAfter struct {
	n   int
	err error
}

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		f.n = 0
		return 0, f.err
	}
	f.n -= len(p)
	return len(p), nil
}

// Failures of the source or the stored copy are not defects of the file:
// they come back as they are, not as an *analyze.Error.
func TestFASTQIOFailuresAreNotDefects(t *testing.T) {
	data, _ := syntheticPair(1 << 20)
	errRead := errors.New("connection reset")
	errWrite := errors.New("disk full")
	tests := []struct {
		name    string
		src     io.Reader
		stored  io.Writer
		wantErr error
	}{
		{"plain source fails", &failingReader{data: data[:100000], err: errRead}, nil, errRead},
		{"gzip source fails", &failingReader{data: gz(t, data)[:5000], err: errRead}, nil, errRead},
		{"stored copy fails", bytes.NewReader(data), failingWriter{errWrite}, errWrite},
		{"stored copy of a gzip source fails at once", bytes.NewReader(gz(t, data)), failingWriter{errWrite}, errWrite},
		{"stored copy of a gzip source fails midway", bytes.NewReader(gz(t, data)), &failAfter{n: 40000, err: errWrite}, errWrite},
		{"stored copy of a BGZF source fails midway", bytes.NewReader(bgzipped(data)), &failAfter{n: 70000, err: errWrite}, errWrite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FASTQ(context.Background(), []io.Reader{tt.src}, []io.Writer{tt.stored}, []etag.Family{etag.MD5up}, Limits{})
			var ae *Error
			if !errors.Is(err, tt.wantErr) || errors.As(err, &ae) {
				t.Fatalf("got %v (%T), want %v as it is", err, err, tt.wantErr)
			}
		})
	}
}

func TestFASTQContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	data := bytes.Repeat(fq("r1", "ACGT", "IIII"), 10000)
	_, err := FASTQ(ctx, []io.Reader{bytes.NewReader(data), bytes.NewReader(data)}, nil, []etag.Family{etag.MD5up}, Limits{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func FuzzFASTQ(f *testing.F) {
	f.Add([]byte("@r1\nACGT\n+\n!!!!\n"), []byte("@r1\nACGT\n+\n!!!!\n"))
	f.Add([]byte("@r1/1\nAC\nGT\n+\n!!\n!!\n\n"), []byte("@r1/2 x\nA\n+\n!\n"))
	f.Add([]byte("\x1f\x8b\x08\x00"), []byte{})
	if b, err := os.ReadFile("/usr/share/htslib-test/test/fastq/multiline.fq"); err == nil {
		f.Add(b, gz(f, b))
	}
	f.Fuzz(func(t *testing.T, s1, s2 []byte) {
		var stored bytes.Buffer
		res, err := FASTQ(context.Background(), []io.Reader{bytes.NewReader(s1)}, []io.Writer{&stored}, []etag.Family{etag.MD5up}, Limits{})
		if err == nil && res.ReadCount == 0 {
			t.Fatal("success with no records")
		}
		// A compressed source is stored as it is; a plain one as BGZF.
		if kind := compress.Sniff(s1[:min(len(s1), compress.SniffSize)]); err == nil && (kind == compress.Gzip || kind == compress.BGZF) && !bytes.Equal(stored.Bytes(), s1) {
			t.Fatalf("the stored copy of a %s source is %d bytes that differ from the %d given", kind, stored.Len(), len(s1))
		}
		if err != nil && len(err.Error()) > 255 {
			t.Fatalf("message longer than 255 characters: %q", err)
		}
		res, err = FASTQ(context.Background(), []io.Reader{bytes.NewReader(s1), bytes.NewReader(s2)}, nil, []etag.Family{etag.MD5up}, Limits{})
		if err == nil && (res.ReadCount == 0 || res.ReadCount%2 != 0) {
			t.Fatalf("paired success with %d reads", res.ReadCount)
		}
	})
}

// syntheticPair makes paired FASTQ of about n bytes per mate, with 150-base
// reads and Illumina-like qualities.
func syntheticPair(n int) (r1, r2 []byte) {
	rng := rand.New(rand.NewPCG(42, 42))
	var b1, b2 bytes.Buffer
	seq := make([]byte, 150)
	qual := make([]byte, 150)
	for i := 0; b1.Len() < n; i++ {
		y := rng.IntN(30000)
		for mate, b := range []*bytes.Buffer{&b1, &b2} {
			for j := range seq {
				seq[j] = "ACGT"[rng.IntN(4)]
				qual[j] = "FFFFF:,#"[rng.IntN(8)]
			}
			fmt.Fprintf(b, "@SIM:1:FCX:1:%d:%d:%d %d:N:0:ATCACG\n%s\n+\n%s\n", i/1000, i%1000, y, mate+1, seq, qual)
		}
	}
	return b1.Bytes(), b2.Bytes()
}

// BenchmarkFASTQPairedGzip analyses paired gzip FASTQ with an MD5 ETag and
// stored BGZF copies; MB/s counts uncompressed FASTQ. Compare with
//
//	time (seqkit stats r1.fq.gz r2.fq.gz; gzip -dc r1.fq.gz | md5sum; gzip -dc r2.fq.gz | md5sum)
//
// which does less: it stores nothing. Measured on the 2-core machine with 2 ×
// 32 MiB (9.9 MB gzip each): 220 MB/s without stored copies (0.31 s), 133
// MB/s with them (0.51 s); seqkit stats -j 2 took 0.31 s and the two
// `gzip -dc | md5sum` 0.53 s more, and recompressing both with
// `gzip -dc | bgzip -@2 -l 1` 0.55 s. Those stored copies were the reads
// re-deflated; now that a gzip source is stored as it arrived, storing
// costs nothing measurable: 1.50 s without stored copies and 1.44 s with
// them in one run on the machine at a load average of 25.
func BenchmarkFASTQPairedGzip(b *testing.B) {
	size := 32 << 20
	if s := os.Getenv("FASTQ_BENCH_MB"); s != "" {
		mb, _ := strconv.Atoi(s)
		size = mb << 20
	}
	r1, r2 := syntheticPair(size)
	g1, g2 := gz(b, r1), gz(b, r2)
	if dir := os.Getenv("FASTQ_BENCH_DIR"); dir != "" {
		// Leave the inputs for the command-line comparison.
		os.WriteFile(filepath.Join(dir, "r1.fq.gz"), g1, 0o644)
		os.WriteFile(filepath.Join(dir, "r2.fq.gz"), g2, 0o644)
	}
	for _, store := range []bool{false, true} {
		b.Run(fmt.Sprintf("store=%v", store), func(b *testing.B) {
			b.SetBytes(int64(len(r1) + len(r2)))
			for b.Loop() {
				var stored []io.Writer
				if store {
					stored = []io.Writer{io.Discard, io.Discard}
				}
				if _, err := FASTQ(context.Background(), []io.Reader{bytes.NewReader(g1), bytes.NewReader(g2)}, stored, []etag.Family{etag.MD5up}, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FASTQETag, which only inflates and hashes, agrees with the full analysis
// on plain, gzip and BGZF copies of the same reads.
func TestFASTQETagAgreesWithAnalysis(t *testing.T) {
	r1, _ := syntheticPair(200 << 10)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(r1)
	zw.Close()
	var bg bytes.Buffer
	bw := bgzf.NewWriter(&bg)
	bw.Write(r1)
	bw.Close()
	res, err := FASTQ(context.Background(), []io.Reader{bytes.NewReader(r1)}, nil, etag.Families, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"plain": r1, "gzip": gz.Bytes(), "bgzf": bg.Bytes()} {
		for _, f := range etag.Families {
			got, err := FASTQETag(bytes.NewReader(data), f)
			if err != nil {
				t.Fatalf("%s %s: %v", name, f, err)
			}
			if want := res.ETags[f][0]; got != want {
				t.Errorf("%s %s: FASTQETag %s, analysis %s", name, f, got, want)
			}
		}
	}
}
