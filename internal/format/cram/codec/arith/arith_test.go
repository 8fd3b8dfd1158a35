package arith

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"testing"

	"github.com/seqstore/seqstore/internal/format/cram/codec/internal/testcram"
	"github.com/seqstore/seqstore/internal/format/cram/codec/ransnx16"
	"github.com/seqstore/seqstore/internal/testutil"
	"github.com/seqstore/seqstore/internal/testutil/heapcap"
)

func decodeBlock(b testcram.Block) ([]byte, bool, error) {
	if b.Method != testcram.MethodArith {
		return nil, false, nil
	}
	out, err := DecodeLimit(b.Data, nil, b.RawSize)
	return out, true, err
}

// ransBlock decodes the rANS Nx16 blocks that samtools mixes in.
func ransBlock(b testcram.Block) ([]byte, bool, error) {
	if b.Method != testcram.MethodRansNx16 {
		return nil, false, nil
	}
	out, err := ransnx16.DecodeLimit(b.Data, nil, b.RawSize)
	return out, true, err
}

const gzipOnly = ",use_rans=0,use_arith=0,use_fqz=0,use_tok=0,use_bzip2=0,use_lzma=0"

// TestSamtoolsBlocks decodes every arithmetic-coded block of CRAM 3.1
// files that samtools writes with use_arith (its "archive" profile) and
// compares each data series with the same file written with gzip only.
func TestSamtoolsBlocks(t *testing.T) {
	dir := testcram.HtslibTestDir
	cases := []struct{ name, sam, ref string }{
		{"ce1000", dir + "/ce#1000.sam", dir + "/ce.fa"},
		{"unmap2", dir + "/ce#unmap2.sam", dir + "/ce.fa"},
		{"index", dir + "/index.sam", ""},
		{"no_hdr_sq", dir + "/no_hdr_sq_1.expected.sam", ""},
		{"lambda", testcram.LambdaReads(t, 3000), ""},
	}
	flags := map[byte]int{}
	for _, c := range cases {
		for _, opts := range []string{"version=3.1,archive,use_bzip2=0,use_lzma=0,use_fqz=0,use_tok=0", "version=3.1,level=3,use_arith=1,use_rans=0,use_tok=0,use_fqz=0"} {
			opts += ",seqs_per_slice=500"
			t.Run(c.name+"/"+opts, func(t *testing.T) {
				with, err := testcram.Blocks(testcram.Samtools(t, c.sam, c.ref, opts))
				if err != nil {
					t.Fatal(err)
				}
				for _, b := range with {
					if b.Method == testcram.MethodArith && len(b.Data) > 0 {
						flags[b.Data[0]]++
					}
				}
				without, err := testcram.Blocks(testcram.Samtools(t, c.sam, c.ref, opts+gzipOnly))
				if err != nil {
					t.Fatal(err)
				}
				got := testcram.Streams(t, with, decodeBlock, ransBlock, testcram.DecodeStandard)
				want := testcram.Streams(t, without, testcram.DecodeStandard)
				testcram.CompareStreams(t, got, want)
			})
		}
	}
	var seen []int
	for f := range flags {
		seen = append(seen, int(f))
	}
	sort.Ints(seen)
	t.Logf("arithmetic coder format flags in samtools output: %v", seen)
	for _, f := range []byte{0, FlagOrder, FlagRLE, FlagRLE | FlagOrder, FlagPack | FlagOrder, FlagPack | FlagRLE | FlagOrder, FlagPack | FlagCat} {
		if flags[f] == 0 {
			t.Errorf("no block with flags %#x; samtools output changed?", f)
		}
	}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// With a one-symbol alphabet every step decodes symbol 0 whatever the
// coder state, so five zero bytes of coder state decode to zeros.
var zeroState = []byte{0, 0, 0, 0, 0}

func TestHandStreams(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
		err  bool
	}{
		{"order0", cat([]byte{0x00, 4, 1}, zeroState), "\x00\x00\x00\x00", false},
		{"order1", cat([]byte{FlagOrder, 3, 1}, zeroState), "\x00\x00\x00", false},
		{"rle order0", cat([]byte{FlagRLE, 3, 1}, zeroState), "\x00\x00\x00", false},
		{"rle order1", cat([]byte{FlagRLE | FlagOrder, 2, 1}, zeroState), "\x00\x00", false},
		{"cat", []byte{FlagCat, 3, 'a', 'b', 'c'}, "abc", false},
		{"pack constant", []byte{FlagPack, 4, 1, 'q', 0}, "qqqq", false},
		{"pack 4 bits", []byte{FlagPack | FlagCat, 3, 5, 'a', 'b', 'c', 'd', 'e', 2, 0x40, 0x02}, "aec", false},
		{"pack over order0", cat([]byte{FlagPack, 3, 2, 'x', 'y', 1, 1}, zeroState), "xxx", false},
		{"stripe", []byte{FlagStripe, 4, 2, 3, 3, FlagNoSize | FlagCat, 'a', 'c', FlagNoSize | FlagCat, 'b', 'd'}, "abcd", false},
		{"empty", []byte{0x00, 0}, "", false},
		{"order0 short state", []byte{0x00, 4, 1, 0, 0}, "", true},
		{"cat truncated", []byte{FlagCat, 3, 'a'}, "", true},
		{"ext not bzip2", []byte{FlagExt, 3, 'x', 'y', 'z'}, "", true},
		{"stripe zero", []byte{FlagStripe, 4, 0}, "", true},
		{"empty stream", nil, "", true},
	}
	for _, tt := range tests {
		got, err := Decode(tt.in, nil)
		if tt.err {
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("%s: got %q, %v; want *Error", tt.name, got, err)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: got %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	if got, err := DecodeLimit([]byte{FlagNoSize | FlagCat, 'a', 'b', 'c'}, nil, 2); err != nil || string(got) != "ab" {
		t.Errorf("top-level NOSZ: got %q, %v; want \"ab\"", got, err)
	}
}

// TestExtBzip2 checks the EXT flag with data compressed by the bzip2 tool.
func TestExtBzip2(t *testing.T) {
	testutil.RequireTool(t, "bzip2")
	want := bytes.Repeat([]byte("ACGTTGCA"), 100)
	cmd := exec.Command("bzip2", "-c")
	cmd.Stdin = bytes.NewReader(want)
	compressed, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(cat([]byte{FlagExt, 0x86, 0x20}, compressed), nil) // size 800
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("EXT: got %d bytes, %v; want %d bytes", len(got), err, len(want))
	}
	if _, err := Decode(cat([]byte{FlagExt, 0x86, 0x1f}, compressed), nil); err == nil {
		t.Error("EXT data longer than the declared size was accepted")
	}
}

func realBlocks(tb testing.TB, sam, ref, opts string) []testcram.Block {
	blocks, err := testcram.Blocks(testcram.Samtools(tb, sam, ref, opts))
	if err != nil {
		tb.Fatal(err)
	}
	var out []testcram.Block
	for _, b := range blocks {
		if b.Method == testcram.MethodArith {
			out = append(out, b)
		}
	}
	return out
}

func FuzzDecode(f *testing.F) {
	for _, b := range realBlocks(f, testcram.HtslibTestDir+"/ce#1000.sam", testcram.HtslibTestDir+"/ce.fa", "version=3.1,archive,seqs_per_slice=100") {
		if len(b.Data) < 1500 {
			f.Add(b.Data)
		}
	}
	f.Add([]byte{FlagStripe, 4, 2, 3, 3, FlagNoSize | FlagCat, 'a', 'c', FlagNoSize | FlagCat, 'b', 'd'})
	f.Fuzz(func(t *testing.T, src []byte) {
		heapcap.Check(t, heapcap.Ceiling, func() {
			const limit = 1 << 18
			out, err := DecodeLimit(src, nil, limit)
			if err == nil && len(out) > limit {
				t.Fatalf("output %d bytes over the limit", len(out))
			}
		})
	})
}

// BenchmarkDecode decodes the blocks of one slice of 10000 lambda reads.
// The simulated qualities are close to uniform (5.2 bits per symbol after
// order-1 coding), the worst case for the adaptive models' linear search.
func BenchmarkDecode(b *testing.B) {
	blocks := realBlocks(b, testcram.LambdaReads(b, 5000), "", "version=3.1,archive,use_rans=0,use_bzip2=0,use_lzma=0,use_fqz=0,use_tok=0,seqs_per_slice=10000")
	byFlags := map[byte][]testcram.Block{}
	for _, blk := range blocks {
		byFlags[blk.Data[0]] = append(byFlags[blk.Data[0]], blk)
	}
	for flags, list := range byFlags {
		total := 0
		for _, blk := range list {
			total += blk.RawSize
		}
		b.Run(fmt.Sprintf("flags%d", flags), func(b *testing.B) {
			b.SetBytes(int64(total))
			var buf []byte
			for i := 0; i < b.N; i++ {
				for _, blk := range list {
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
