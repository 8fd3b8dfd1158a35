package ransnx16

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"testing"

	"github.com/seqstore/seqstore/internal/format/cram/codec/internal/testcram"
	"github.com/seqstore/seqstore/internal/testutil/heapcap"
)

func decodeBlock(b testcram.Block) ([]byte, bool, error) {
	if b.Method != testcram.MethodRansNx16 {
		return nil, false, nil
	}
	out, err := DecodeLimit(b.Data, nil, b.RawSize)
	return out, true, err
}

// gzipOnly turns off every CRAM 3.1 codec so that each data series is
// written with gzip or raw blocks only.
const gzipOnly = ",use_rans=0,use_arith=0,use_fqz=0,use_tok=0,use_bzip2=0,use_lzma=0"

// TestSamtoolsBlocks decodes every rANS Nx16 block in CRAM 3.1 files written
// by samtools at several levels and compares each data series with the same
// file written with gzip only. It reports the format flags it saw.
func TestSamtoolsBlocks(t *testing.T) {
	lambda := testcram.LambdaReads(t, 3000)
	dir := testcram.HtslibTestDir
	cases := []struct{ name, sam, ref, opts string }{
		{"ce1000", dir + "/ce#1000.sam", dir + "/ce.fa", "version=3.1,level=1"},
		{"ce1000", dir + "/ce#1000.sam", dir + "/ce.fa", "version=3.1,level=7,use_bzip2=0"},
		{"ce1000", dir + "/ce#1000.sam", dir + "/ce.fa", "version=3.1,level=9,use_bzip2=0,use_lzma=0"},
		{"large_aux", dir + "/xx#large_aux.sam", dir + "/xx.fa", "version=3.1"},
		{"large_seq", dir + "/ce#large_seq.sam", dir + "/ce.fa", "version=3.1,level=7,use_bzip2=0"},
		{"realn02", dir + "/realn02-r.sam", "", "version=3.1,level=7,use_bzip2=0"},
		{"lambda", lambda, "", "version=3.1"},
		{"lambda", lambda, "", "version=3.1,level=9,use_bzip2=0,use_lzma=0"},
	}
	flags := map[byte]int{}
	for _, c := range cases {
		in, opts := c, c.opts
		{
			t.Run(in.name+"/"+opts, func(t *testing.T) {
				opts += ",use_tok=0,seqs_per_slice=500"
				with, err := testcram.Blocks(testcram.Samtools(t, in.sam, in.ref, opts))
				if err != nil {
					t.Fatal(err)
				}
				for _, b := range with {
					if b.Method == testcram.MethodRansNx16 && len(b.Data) > 0 {
						flags[b.Data[0]]++
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
	var seen []int
	for f := range flags {
		seen = append(seen, int(f))
	}
	sort.Ints(seen)
	t.Logf("rANS Nx16 format flags in samtools output: %v", seen)
	for _, f := range []byte{0, FlagOrder, FlagRLE, FlagRLE | FlagOrder, FlagRLE | FlagCat, FlagPack, FlagPack | FlagOrder, FlagPack | FlagCat, FlagPack | FlagRLE | FlagCat} {
		if flags[f] == 0 {
			t.Errorf("no block with flags %#x; samtools output changed?", f)
		}
	}
}

func uint32le(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }

// states returns n copies of the lowest valid state. With a single symbol
// of frequency 4096 a rANS step leaves the state unchanged, which makes
// hand-written streams easy to check.
func states(n int) []byte { return bytes.Repeat(uint32le(1<<15), n) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestHandStreams(t *testing.T) {
	order0 := cat([]byte{'x', 0x00, 0x01}, states(4))     // alphabet {x}, frequency 1 (scaled to 4096)
	order0x32 := cat([]byte{'x', 0x00, 0x01}, states(32)) // the same with 32 states
	order1 := cat([]byte{0xc0, 0x00, 'x', 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x01}, states(4))
	order1bad := cat([]byte{0xb0, 0x00, 'x', 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x01}, states(4))
	tests := []struct {
		name string
		in   []byte
		want string
		err  bool
	}{
		{"order0", cat([]byte{0x00, 10}, order0), "xxxxxxxxxx", false},
		{"order0 N32", cat([]byte{FlagN32, 40}, order0x32), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", false},
		{"order1", cat([]byte{FlagOrder, 9}, order1), "xxxxxxxxx", false},
		{"order1 N32", cat([]byte{FlagOrder | FlagN32, 33}, order1[:10], states(32)), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", false},
		{"cat", []byte{FlagCat, 5, 'h', 'e', 'l', 'l', 'o'}, "hello", false},
		{"pack constant", []byte{FlagPack, 7, 1, 'z', 0}, "zzzzzzz", false},
		{"pack 1 bit", []byte{FlagPack | FlagCat, 10, 2, 'A', 'B', 2, 0x05, 0x03}, "BABAAAAABB", false},
		{"pack 2 bits", []byte{FlagPack | FlagCat, 5, 3, 'A', 'C', 'G', 2, 0x24, 0x01}, "ACGAC", false},
		{"rle", []byte{FlagRLE | FlagCat, 6, 7, 3, 1, 'a', 3, 'b', 'a', 'c'}, "baaaac", false},
		// "baaaab" packs to the single byte 0x21, run length 0.
		{"rle pack", []byte{FlagPack | FlagRLE | FlagCat, 6, 2, 'a', 'b', 1, 7, 1, 1, 0x21, 0, 0x21}, "baaaab", false},
		{"rle run too long", []byte{FlagRLE | FlagCat, 6, 7, 3, 1, 'a', 9, 'b', 'a', 'c'}, "", true},
		{"stripe", []byte{FlagStripe, 5, 2, 4, 3, FlagNoSize | FlagCat, 'a', 'c', 'e', FlagNoSize | FlagCat, 'b', 'd'}, "abcde", false},
		{"empty", []byte{0x00, 0}, "", false},
		{"order1 11 bits", cat([]byte{FlagOrder, 9}, order1bad), "", true},
		{"stripe count zero", []byte{FlagStripe, 5, 0}, "", true},
		{"stripe short", []byte{FlagStripe, 6, 2, 4, 3, FlagNoSize | FlagCat, 'a', 'c', 'e', FlagNoSize | FlagCat, 'b', 'd'}, "", true},
		{"truncated cat", []byte{FlagCat, 5, 'h'}, "", true},
		{"truncated states", cat([]byte{0x00, 10}, order0[:10]), "", true},
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
	// NOSZ at the top level takes the size from the caller.
	if got, err := DecodeLimit([]byte{FlagNoSize | FlagCat, 'a', 'b', 'c'}, nil, 2); err != nil || string(got) != "ab" {
		t.Errorf("top-level NOSZ: got %q, %v; want \"ab\"", got, err)
	}
	if _, err := DecodeLimit(cat([]byte{0x00, 10}, order0), nil, 9); err == nil {
		t.Error("DecodeLimit accepted a size over its limit")
	}
}

func realBlocks(tb testing.TB, sam, ref, opts string) []testcram.Block {
	blocks, err := testcram.Blocks(testcram.Samtools(tb, sam, ref, opts))
	if err != nil {
		tb.Fatal(err)
	}
	var out []testcram.Block
	for _, b := range blocks {
		if b.Method == testcram.MethodRansNx16 {
			out = append(out, b)
		}
	}
	return out
}

func FuzzDecode(f *testing.F) {
	for _, b := range realBlocks(f, testcram.HtslibTestDir+"/ce#1000.sam", testcram.HtslibTestDir+"/ce.fa", "version=3.1,level=7,seqs_per_slice=100") {
		if len(b.Data) < 1500 {
			f.Add(b.Data)
		}
	}
	f.Add([]byte{FlagStripe, 5, 2, 4, 3, FlagNoSize | FlagCat, 'a', 'c', 'e', FlagNoSize | FlagCat, 'b', 'd'})
	f.Add([]byte{FlagPack | FlagRLE | FlagCat, 6, 2, 'a', 'b', 1, 7, 1, 1, 0x21, 0, 0x21})
	f.Fuzz(func(t *testing.T, src []byte) {
		heapcap.Check(t, heapcap.Ceiling, func() {
			const limit = 1 << 20
			out, err := DecodeLimit(src, nil, limit)
			if err == nil && len(out) > limit {
				t.Fatalf("output %d bytes over the limit", len(out))
			}
		})
	})
}

func BenchmarkDecode(b *testing.B) {
	// One slice of 10000 lambda reads: whole-slice sequence, quality and
	// name blocks as samtools writes them at its default level.
	blocks := realBlocks(b, testcram.LambdaReads(b, 5000), "", "version=3.1,seqs_per_slice=10000,use_tok=0")
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
