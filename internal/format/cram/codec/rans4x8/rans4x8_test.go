package rans4x8

import (
	"bytes"
	"errors"
	"testing"

	"github.com/seqstore/seqstore/internal/format/cram/codec/internal/testcram"
	"github.com/seqstore/seqstore/internal/testutil/heapcap"
)

func decodeBlock(b testcram.Block) ([]byte, bool, error) {
	if b.Method != testcram.MethodRans4x8 {
		return nil, false, nil
	}
	out, err := DecodeLimit(b.Data, nil, b.RawSize)
	return out, true, err
}

// samtoolsInputs are SAM files that htslib writes as CRAM 3.0 with rANS 4x8
// blocks of both orders.
func samtoolsInputs(t *testing.T) []struct{ name, sam, ref string } {
	return []struct{ name, sam, ref string }{
		{"ce1000", testcram.HtslibTestDir + "/ce#1000.sam", testcram.HtslibTestDir + "/ce.fa"},
		{"lambda", testcram.LambdaReads(t, 2000), ""},
	}
}

// TestSamtoolsBlocks decodes every rANS 4x8 block of CRAM 3.0 files written
// by samtools and checks each data series against the same file written
// with gzip instead of rANS.
func TestSamtoolsBlocks(t *testing.T) {
	orders := map[byte]int{}
	for _, in := range samtoolsInputs(t) {
		t.Run(in.name, func(t *testing.T) {
			withRans, err := testcram.Blocks(testcram.Samtools(t, in.sam, in.ref, "version=3.0,seqs_per_slice=300"))
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range withRans {
				if b.Method == testcram.MethodRans4x8 && len(b.Data) > 0 {
					orders[b.Data[0]]++
				}
			}
			noRans, err := testcram.Blocks(testcram.Samtools(t, in.sam, in.ref, "version=3.0,seqs_per_slice=300,use_rans=0"))
			if err != nil {
				t.Fatal(err)
			}
			got := testcram.Streams(t, withRans, decodeBlock, testcram.DecodeStandard)
			want := testcram.Streams(t, noRans, testcram.DecodeStandard)
			testcram.CompareStreams(t, got, want)
		})
	}
	if orders[0] == 0 || orders[1] == 0 {
		t.Errorf("rANS blocks by order: %v; want both orders exercised", orders)
	}
}

// Hand-made streams. "abracadabra" with order-0 frequencies a:2048 b:1024
// r:1024 would need an encoder; instead a single-symbol alphabet makes the
// arithmetic trivial: with one symbol of frequency 4096 every step leaves the
// state unchanged, so any valid state decodes to that symbol repeated.
func TestHandStreams(t *testing.T) {
	state := []byte{0x00, 0x00, 0x80, 0x00} // 1<<23, the lower bound
	o0 := []byte{'x', 0x90, 0x00, 0x00}     // symbol x, frequency 4096, end
	for i := 0; i < 4; i++ {
		o0 = append(o0, state...)
	}
	o1 := []byte{0x00, 'x', 0x90, 0x00, 0x00, 'x', 'x', 0x00, 0x00, 0x00} // ctx 0 -> x; ctx x -> x (0 means 4096)
	for i := 0; i < 4; i++ {
		o1 = append(o1, state...)
	}
	tests := []struct {
		name string
		in   []byte
		want []byte
		err  bool
	}{
		{"order0", stream(0, o0, 10), bytes.Repeat([]byte("x"), 10), false},
		{"order1", stream(1, o1, 9), bytes.Repeat([]byte("x"), 9), false},
		{"order1 empty", stream(1, o1, 0), []byte{}, false},
		{"order2", stream(2, o0, 10), nil, true},
		{"short header", []byte{0, 1, 2}, nil, true},
		{"low state", stream(0, append(o0[:4:4], make([]byte, 16)...), 1), nil, true},
		{"freqs too big", stream(0, []byte{'a', 0x90, 0x00, 'c', 0x81, 0x00, 0x00}, 1), nil, true},
	}
	for _, tt := range tests {
		got, err := Decode(tt.in, nil)
		if tt.err {
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("%s: got %v, want *Error", tt.name, err)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, tt.want) {
			t.Errorf("%s: got %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	if _, err := DecodeLimit(stream(0, o0, 10), nil, 9); err == nil {
		t.Error("DecodeLimit accepted a size over its limit")
	}
}

func stream(order byte, body []byte, outSize uint32) []byte {
	b := []byte{order}
	b = append(b, byte(len(body)), byte(len(body)>>8), byte(len(body)>>16), byte(len(body)>>24))
	b = append(b, byte(outSize), byte(outSize>>8), byte(outSize>>16), byte(outSize>>24))
	return append(b, body...)
}

func samtoolsRansBlocks(tb testing.TB, sam, ref, opts string) []testcram.Block {
	blocks, err := testcram.Blocks(testcram.Samtools(tb, sam, ref, opts))
	if err != nil {
		tb.Fatal(err)
	}
	var out []testcram.Block
	for _, b := range blocks {
		if b.Method == testcram.MethodRans4x8 {
			out = append(out, b)
		}
	}
	return out
}

func FuzzDecode(f *testing.F) {
	for _, b := range samtoolsRansBlocks(f, testcram.HtslibTestDir+"/ce#1000.sam", testcram.HtslibTestDir+"/ce.fa", "version=3.0,seqs_per_slice=100") {
		if len(b.Data) < 2000 {
			f.Add(b.Data)
		}
	}
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
	// Whole-slice blocks of 10000 lambda reads (sequences, qualities,
	// names) and of the long reads of ce#large_seq.
	blocks := samtoolsRansBlocks(b, testcram.LambdaReads(b, 5000), "", "version=3.0,seqs_per_slice=10000")
	blocks = append(blocks, samtoolsRansBlocks(b, testcram.HtslibTestDir+"/ce#large_seq.sam", testcram.HtslibTestDir+"/ce.fa", "version=3.0,seqs_per_slice=10000")...)
	for _, order := range []byte{0, 1} {
		var data [][]byte
		total := 0
		for _, blk := range blocks {
			if blk.Data[0] == order {
				data = append(data, blk.Data)
				total += blk.RawSize
			}
		}
		b.Run(map[byte]string{0: "order0", 1: "order1"}[order], func(b *testing.B) {
			if len(data) == 0 {
				b.Skip("samtools wrote no block of this order")
			}
			b.SetBytes(int64(total))
			var buf []byte
			for i := 0; i < b.N; i++ {
				for _, d := range data {
					out, err := Decode(d, buf)
					if err != nil {
						b.Fatal(err)
					}
					buf = out[:0]
				}
			}
		})
	}
}
