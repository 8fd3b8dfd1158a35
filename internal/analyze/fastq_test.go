package analyze

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/etag"
	"github.com/seqstore/seqstore/internal/testutil"
)

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func lambdaReads(t testing.TB) (r1, r2 []byte) {
	dir := testutil.RequireDir(t, "/usr/share/doc/bowtie2/examples/reads")
	read := func(name string) []byte {
		b, err := os.ReadFile(dir + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	return read("reads_1.fq.gz"), read("reads_2.fq.gz")
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// seqkitStats runs seqkit stats on b and returns records and bases.
func seqkitStats(t *testing.T, b []byte) (int64, int64) {
	t.Helper()
	testutil.RequireTool(t, "seqkit")
	f, err := os.CreateTemp(t.TempDir(), "*.fq")
	if err != nil {
		t.Fatal(err)
	}
	f.Write(b)
	f.Close()
	out := testutil.Run(t, "seqkit", "stats", "-T", f.Name())
	cols := strings.Split(strings.Split(strings.TrimSpace(string(out)), "\n")[1], "\t")
	n, _ := strconv.ParseInt(cols[3], 10, 64)
	s, _ := strconv.ParseInt(cols[4], 10, 64)
	return n, s
}

func bgzip(t *testing.T, b []byte) []byte {
	t.Helper()
	testutil.RequireTool(t, "bgzip")
	cmd := exec.Command("bgzip", "-c")
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFASTQPairedAgainstSeqkit(t *testing.T) {
	r1, r2 := lambdaReads(t)
	n1, b1 := seqkitStats(t, r1)
	n2, b2 := seqkitStats(t, r2)
	half := bytes.Index(r1[len(r1)/2:], []byte("\n@")) + len(r1)/2 + 1
	forms := []struct {
		name string
		s1   []byte
	}{
		{"plain", r1},
		{"gzip", gz(t, r1)},
		{"multi-member gzip", append(gz(t, r1[:half]), gz(t, r1[half:])...)},
		{"bgzf", bgzip(t, r1)},
	}
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			var st1, st2 bytes.Buffer
			res, err := FASTQ(context.Background(), []io.Reader{bytes.NewReader(f.s1), bytes.NewReader(gz(t, r2))}, []io.Writer{&st1, &st2}, etag.Families)
			if err != nil {
				t.Fatal(err)
			}
			if res.ReadCount != n1+n2 || res.BaseCount != b1+b2 {
				t.Errorf("counts %d/%d, seqkit %d/%d", res.ReadCount, res.BaseCount, n1+n2, b1+b2)
			}
			if got := res.ETags[etag.MD5up]; got[0] != md5hex(r1) || got[1] != md5hex(r2) {
				t.Errorf("md5 etags %v", got)
			}
			zr, err := gzip.NewReader(&st1)
			if err != nil {
				t.Fatal(err)
			}
			back, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(back, r1) {
				t.Errorf("stored BGZF does not decompress to source1: %v", err)
			}
		})
	}
}

func TestFASTQDefects(t *testing.T) {
	r1, _ := lambdaReads(t)
	first := bytes.SplitN(r1, []byte("\n"), 9)
	rec := func(i int) []byte { return bytes.Join(first[i*4:i*4+4], []byte("\n")) }
	two := append(append(append([]byte{}, rec(0)...), '\n'), append(rec(1), '\n')...)
	tests := []struct {
		name    string
		sources [][]byte
		want    string
	}{
		{"an empty file", [][]byte{{}}, "source1: holds no FASTQ records"},
		{"a missing plus line", [][]byte{[]byte("@r1\nACGT\n@r2\nACGT\n+\n!!!!\n")}, "source1, record 1 (line 3): sequence has an invalid character '@'"},
		{"qualities too long", [][]byte{[]byte("@r1\nACGT\n+\n!!!!!\n")}, "quality length 5 differs from sequence length 4"},
		{"a quality below '!'", [][]byte{[]byte("@r1\nACGT\n+\n!! !\n")}, "outside the Phred+33 range"},
		{"a truncated record", [][]byte{[]byte("@r1\nACGT\n+\n!!")}, "the file ends inside the qualities"},
		{"binary garbage", [][]byte{{0x00, 0x01, 0x02, '\n'}}, "source1, record 1 (line 1): the first line does not start with '@'"},
		{"a truncated gzip", [][]byte{gz(t, r1)[:1000]}, "truncated"},
		{"unpaired names", [][]byte{two, append(append(append([]byte{}, rec(1)...), '\n'), append(rec(0), '\n')...)}, "source2, record 1"},
		{"fewer mates", [][]byte{two, append(rec(0), '\n')}, "source2 ends before source1"},
		{"more mates", [][]byte{append(rec(0), '\n'), two}, "source2 has more records"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var srcs []io.Reader
			for _, s := range tt.sources {
				srcs = append(srcs, bytes.NewReader(s))
			}
			_, err := FASTQ(context.Background(), srcs, nil, []etag.Family{etag.MD5up})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			if _, ok := err.(*Error); !ok {
				t.Fatalf("%T is not an *analyze.Error", err)
			}
		})
	}
}

func TestMultiLineFASTQ(t *testing.T) {
	in := "@r1 comment\nACGT\nAC\n+\n!!!!\n!!\n@r2/1\nA\n+r2\n@\n"
	res, err := FASTQ(context.Background(), []io.Reader{strings.NewReader(in)}, nil, []etag.Family{etag.MD5up})
	if err != nil {
		t.Fatal(err)
	}
	if res.ReadCount != 2 || res.BaseCount != 7 {
		t.Fatalf("counts %d/%d, want 2/7", res.ReadCount, res.BaseCount)
	}
}

func FuzzFASTQ(f *testing.F) {
	f.Add([]byte("@r1\nACGT\n+\n!!!!\n"))
	f.Add([]byte("@r1\nAC\nGT\n+\n!!\n!!\n\n"))
	f.Add([]byte("\x1f\x8b\x08\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := FASTQ(context.Background(), []io.Reader{bytes.NewReader(b)}, []io.Writer{io.Discard}, []etag.Family{etag.MD5up})
		if err == nil && res.ReadCount == 0 {
			t.Fatal("success with no records")
		}
	})
}

func BenchmarkFASTQPaired(b *testing.B) {
	r1, r2 := lambdaReads(b)
	g1, g2 := gz(b, r1), gz(b, r2)
	b.SetBytes(int64(len(r1) + len(r2)))
	for b.Loop() {
		if _, err := FASTQ(context.Background(), []io.Reader{bytes.NewReader(g1), bytes.NewReader(g2)}, []io.Writer{io.Discard, io.Discard}, []etag.Family{etag.MD5up}); err != nil {
			b.Fatal(err)
		}
	}
}
