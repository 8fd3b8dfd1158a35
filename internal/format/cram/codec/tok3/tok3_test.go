package tok3

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/format/cram/codec/arith"
	"github.com/seqstore/seqstore/internal/format/cram/codec/fqzcomp"
	"github.com/seqstore/seqstore/internal/format/cram/codec/internal/testcram"
	"github.com/seqstore/seqstore/internal/format/cram/codec/ransnx16"
	"github.com/seqstore/seqstore/internal/testutil"
	"github.com/seqstore/seqstore/internal/testutil/heapcap"
)

func decodeBlock(b testcram.Block) ([]byte, bool, error) {
	var out []byte
	var err error
	switch b.Method {
	case testcram.MethodTok3:
		out, err = DecodeLimit(b.Data, nil, b.RawSize)
	case testcram.MethodRansNx16:
		out, err = ransnx16.DecodeLimit(b.Data, nil, b.RawSize)
	case testcram.MethodArith:
		out, err = arith.DecodeLimit(b.Data, nil, b.RawSize)
	case testcram.MethodFqzcomp:
		out, err = fqzcomp.DecodeLimit(b.Data, nil, b.RawSize)
	default:
		return nil, false, nil
	}
	return out, true, err
}

const gzipOnly = ",use_rans=0,use_arith=0,use_fqz=0,use_tok=0,use_bzip2=0,use_lzma=0"

type input struct{ name, sam, ref string }

func inputs(t testing.TB) []input {
	dir := testcram.HtslibTestDir
	return []input{
		{"ce1000", dir + "/ce#1000.sam", dir + "/ce.fa"},
		{"lambda", testcram.LambdaReads(t, 3000), ""},
		{"realn01", dir + "/realn01.sam", ""},
		{"pair", dir + "/xx#pair.sam", dir + "/xx.fa"},
		{"index", dir + "/index.sam", ""},
	}
}

// TestSamtoolsBlocks decodes every name tokeniser block samtools writes,
// with rANS (default level) and arithmetic (archive) token streams, and
// compares the read-name series with the same file written with gzip only.
func TestSamtoolsBlocks(t *testing.T) {
	kinds := map[string]int{}
	for _, in := range inputs(t) {
		for _, opts := range []string{"version=3.1", "version=3.1,archive,use_bzip2=0,use_lzma=0", "version=3.1,level=9,use_bzip2=0,use_lzma=0"} {
			opts += ",seqs_per_slice=400"
			t.Run(in.name+"/"+opts, func(t *testing.T) {
				with, err := testcram.Blocks(testcram.Samtools(t, in.sam, in.ref, opts))
				if err != nil {
					t.Fatal(err)
				}
				for _, b := range with {
					if b.Method == testcram.MethodTok3 && len(b.Data) > 8 {
						kinds[map[bool]string{false: "rans", true: "arith"}[b.Data[8] != 0]]++
					}
				}
				without, err := testcram.Blocks(testcram.Samtools(t, in.sam, in.ref, opts+gzipOnly))
				if err != nil {
					t.Fatal(err)
				}
				got := testcram.Streams(t, with, decodeBlock, testcram.DecodeStandard)
				want := testcram.Streams(t, without, testcram.DecodeStandard)
				testcram.CompareStreams(t, got, want)
			})
		}
	}
	t.Logf("tok3 blocks by token stream codec: %v", kinds)
	if kinds["rans"] == 0 || kinds["arith"] == 0 {
		t.Errorf("tok3 blocks by codec %v; want both rANS and arithmetic token streams", kinds)
	}
}

// TestNamesMatchSamtoolsView compares the decoded names with the read
// names samtools view prints, in order, for files that samtools writes as a
// single slice with tokenised names.
func TestNamesMatchSamtoolsView(t *testing.T) {
	for _, in := range inputs(t)[:2] {
		for _, opts := range []string{"version=3.1,seqs_per_slice=100000", "version=3.1,archive,seqs_per_slice=100000"} {
			blocks, err := testcram.Blocks(testcram.Samtools(t, in.sam, in.ref, opts))
			if err != nil {
				t.Fatal(err)
			}
			var got []byte
			for _, b := range blocks {
				if b.Method == testcram.MethodTok3 {
					out, err := Decode(b.Data, nil)
					if err != nil {
						t.Fatalf("%s %s: %v", in.name, opts, err)
					}
					got = append(got, out...)
				}
			}
			var want []byte
			for _, line := range strings.Split(strings.TrimSpace(string(testutil.Run(t, "samtools", "view", in.sam))), "\n") {
				name, _, _ := strings.Cut(line, "\t")
				want = append(append(want, name...), 0)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s %s: decoded names differ from samtools view (%d vs %d bytes)", in.name, opts, len(got), len(want))
			}
		}
	}
}

// catStream wraps raw bytes as a rANS Nx16 CAT stream of a token stream:
// length, flags, size, data.
func catStream(data ...byte) []byte {
	s := append([]byte{0x20, byte(len(data))}, data...)
	return append([]byte{byte(len(s))}, s...)
}

func header(ulen, nreads byte) []byte { return []byte{ulen, 0, 0, 0, nreads, 0, 0, 0, 0} }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestHandStreams builds small streams from uncompressed token streams.
// The names "r7", "r8", "r8": position 0 is DIFF 0, DIFF 1, DUP 1;
// position 1 a STRING "r" then MATCH; position 2 DIGITS 7 then DELTA 1;
// position 3 END.
func TestHandStreams(t *testing.T) {
	names := cat(
		header(9, 3),
		[]byte{0x80 | tokType}, catStream(tokDiff, tokDiff, tokDup),
		[]byte{tokDiff}, catStream(0, 0, 0, 0, 1, 0, 0, 0),
		[]byte{tokDup}, catStream(1, 0, 0, 0),
		[]byte{0x80 | tokString}, catStream('r', 0), // type stream implied: STRING, MATCH...
		[]byte{0x80 | tokType}, catStream(tokDigits, tokDelta),
		[]byte{tokDigits}, catStream(7, 0, 0, 0),
		[]byte{tokDelta}, catStream(1),
		[]byte{0x80 | tokType}, catStream(tokEnd, tokEnd),
	)
	if got, err := Decode(names, nil); err != nil || string(got) != "r7\x00r8\x00r8\x00" {
		t.Errorf("names: got %q, %v", got, err)
	}
	// "a007", "a008": DIGITS0 with its length, then DELTA0 keeping the width.
	zeros := cat(
		header(10, 2),
		[]byte{0x80 | tokType}, catStream(tokDiff, tokDiff),
		[]byte{tokDiff}, catStream(0, 0, 0, 0, 1, 0, 0, 0),
		[]byte{0x80 | tokChar}, catStream('a'),
		[]byte{0x80 | tokType}, catStream(tokDigits0, tokDelta0),
		[]byte{tokDigits0}, catStream(7, 0, 0, 0),
		[]byte{tokDZLen}, catStream(3),
		[]byte{tokDelta0}, catStream(1),
		[]byte{0x80 | tokType}, catStream(tokEnd, tokEnd),
	)
	if got, err := Decode(zeros, nil); err != nil || string(got) != "a007\x00a008\x00" {
		t.Errorf("zero-padded numbers: got %q, %v", got, err)
	}
	// Error cases.
	tests := []struct {
		name string
		in   []byte
	}{
		{"short header", []byte{1, 0, 0}},
		{"no names", header(0, 0)},
		{"stream before position", cat(header(3, 1), []byte{tokDiff}, catStream(0, 0, 0, 0))},
		{"truncated stream", cat(header(3, 1), []byte{0x80 | tokType, 5, 0x20})},
		{"dup of missing stream", cat(header(3, 1), []byte{0x80 | 0x40 | tokDiff, 0, 3})},
		{"no end", cat(header(3, 1), []byte{0x80 | tokDiff}, catStream(0, 0, 0, 0), []byte{0x80 | tokChar}, catStream('a'))},
		{"distance too far", cat(header(3, 1), []byte{0x80 | tokDiff}, catStream(1, 0, 0, 0), []byte{0x80 | tokType}, catStream(tokEnd))},
		{"over size", cat(header(2, 1), []byte{0x80 | tokDiff}, catStream(0, 0, 0, 0), []byte{0x80 | tokString}, catStream('a', 'b', 'c', 0), []byte{0x80 | tokType}, catStream(tokEnd))},
		{"match in first name", cat(header(3, 1), []byte{0x80 | tokDiff}, catStream(0, 0, 0, 0), []byte{0x80 | tokType}, catStream(tokMatch), []byte{0x80 | tokType}, catStream(tokEnd))},
	}
	for _, tt := range tests {
		got, err := Decode(tt.in, nil)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: got %q, %v; want *Error", tt.name, got, err)
		}
	}
}

func realBlocks(tb testing.TB, in input, opts string) []testcram.Block {
	blocks, err := testcram.Blocks(testcram.Samtools(tb, in.sam, in.ref, opts))
	if err != nil {
		tb.Fatal(err)
	}
	var out []testcram.Block
	for _, b := range blocks {
		if b.Method == testcram.MethodTok3 {
			out = append(out, b)
		}
	}
	return out
}

func FuzzDecode(f *testing.F) {
	in := input{"realn01", testcram.HtslibTestDir + "/realn01.sam", ""}
	for _, opts := range []string{"version=3.1", "version=3.1,archive"} {
		for _, b := range realBlocks(f, in, opts) {
			f.Add(b.Data)
		}
	}
	in = input{"ce1000", testcram.HtslibTestDir + "/ce#1000.sam", testcram.HtslibTestDir + "/ce.fa"}
	for _, b := range realBlocks(f, in, "version=3.1,seqs_per_slice=20") {
		if len(b.Data) < 1000 {
			f.Add(b.Data)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		heapcap.Check(t, heapcap.Ceiling, func() {
			const limit = 1 << 16
			out, err := DecodeLimit(src, nil, limit)
			if err == nil && len(out) > limit {
				t.Fatalf("output %d bytes over the limit", len(out))
			}
		})
	})
}

// BenchmarkDecode decodes the name block of one slice of 10000 lambda reads
// as samtools writes it with rANS and with arithmetic token streams.
func BenchmarkDecode(b *testing.B) {
	in := input{"lambda", testcram.LambdaReads(b, 5000), ""}
	for _, opts := range []string{"version=3.1", "version=3.1,archive"} {
		blocks := realBlocks(b, in, opts+",seqs_per_slice=10000")
		total := 0
		for _, blk := range blocks {
			total += blk.RawSize
		}
		b.Run(opts, func(b *testing.B) {
			b.SetBytes(int64(total))
			var buf []byte
			for i := 0; i < b.N; i++ {
				for _, blk := range blocks {
					out, err := Decode(blk.Data, buf)
					if err != nil {
						b.Fatal(err)
					}
					buf = out[:0]
				}
			}
		})
	}
}
