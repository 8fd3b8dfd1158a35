package fqzcomp

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/format/cram/codec/arith"
	"github.com/seqstore/seqstore/internal/format/cram/codec/internal/testcram"
	"github.com/seqstore/seqstore/internal/format/cram/codec/ransnx16"
	"github.com/seqstore/seqstore/internal/testutil"
	"github.com/seqstore/seqstore/internal/testutil/heapcap"
)

func decodeBlock(b testcram.Block) ([]byte, bool, error) {
	var out []byte
	var err error
	switch b.Method {
	case testcram.MethodFqzcomp:
		out, err = DecodeLimit(b.Data, nil, b.RawSize)
	case testcram.MethodRansNx16:
		out, err = ransnx16.DecodeLimit(b.Data, nil, b.RawSize)
	case testcram.MethodArith:
		out, err = arith.DecodeLimit(b.Data, nil, b.RawSize)
	default:
		return nil, false, nil
	}
	return out, true, err
}

const gzipOnly = ",use_rans=0,use_arith=0,use_fqz=0,use_tok=0,use_bzip2=0,use_lzma=0"

// paramFlags describes a stream's parameter flags for the test log.
func paramFlags(b []byte) string {
	_, n, err := readUint7(b)
	if err != nil || len(b) < n+7 {
		return "?"
	}
	var ps params
	if _, err := readParams(b, n, &ps); err != nil {
		return "?"
	}
	s := fmt.Sprintf("g%d", ps.gflags)
	for _, p := range ps.p {
		s += fmt.Sprintf("/p%d", p.flags)
	}
	return s
}

func readUint7(b []byte) (uint32, int, error) {
	var v uint32
	for i, c := range b {
		v = v<<7 | uint32(c&0x7f)
		if c < 0x80 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errors.New("truncated")
}

// TestSamtoolsBlocks decodes every fqzcomp block that samtools writes at
// several levels (which pick different fqzcomp strategies) and compares the
// quality series with the same file written with gzip only.
func TestSamtoolsBlocks(t *testing.T) {
	dir := testcram.HtslibTestDir
	lambda := testcram.LambdaReads(t, 3000)
	cases := []struct{ name, sam, ref string }{
		{"ce1000", dir + "/ce#1000.sam", dir + "/ce.fa"},
		{"large_seq", dir + "/ce#large_seq.sam", dir + "/ce.fa"},
		{"realn01", dir + "/realn01.sam", ""},
		{"lambda", lambda, ""},
	}
	seen := map[string]int{}
	for _, c := range cases {
		for _, opts := range []string{"version=3.1,archive", "version=3.1,level=5,use_fqz=1", "version=3.1,archive,level=9"} {
			opts += ",use_tok=0,use_bzip2=0,use_lzma=0,seqs_per_slice=400"
			t.Run(c.name+"/"+opts, func(t *testing.T) {
				with, err := testcram.Blocks(testcram.Samtools(t, c.sam, c.ref, opts))
				if err != nil {
					t.Fatal(err)
				}
				for _, b := range with {
					if b.Method == testcram.MethodFqzcomp {
						seen[paramFlags(b.Data)]++
					}
				}
				without, err := testcram.Blocks(testcram.Samtools(t, c.sam, c.ref, opts+gzipOnly))
				if err != nil {
					t.Fatal(err)
				}
				got := testcram.Streams(t, with, decodeBlock, testcram.DecodeStandard)
				want := testcram.Streams(t, without, testcram.DecodeStandard)
				testcram.CompareStreams(t, got, want)
			})
		}
	}
	var kinds []string
	for k := range seen {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	t.Logf("fqzcomp parameter flags in samtools output (global/per block): %v", kinds)
	if len(seen) < 2 {
		t.Errorf("fqzcomp blocks of %d parameter kinds, want at least 2", len(seen))
	}
}

// TestQualitiesMatchSamtoolsView compares the decoded quality blocks with
// the qualities samtools view prints, record by record in file order.
func TestQualitiesMatchSamtoolsView(t *testing.T) {
	sam := testcram.HtslibTestDir + "/ce#1000.sam"
	file := testcram.Samtools(t, sam, testcram.HtslibTestDir+"/ce.fa", "version=3.1,archive,use_bzip2=0,use_lzma=0,seqs_per_slice=300")
	blocks, err := testcram.Blocks(file)
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	for _, b := range blocks {
		if b.Method == testcram.MethodFqzcomp {
			out, err := Decode(b.Data, nil)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, out...)
		}
	}
	if len(got) == 0 {
		t.Fatal("samtools wrote no fqzcomp block")
	}
	view := testutil.Run(t, "samtools", "view", sam)
	var want []byte
	for _, line := range strings.Split(strings.TrimSpace(string(view)), "\n") {
		fields := strings.Split(line, "\t")
		if fields[10] == "*" {
			continue
		}
		for _, c := range []byte(fields[10]) {
			want = append(want, c-33)
		}
	}
	if !bytes.Equal(got, want) {
		t.Errorf("decoded %d qualities differ from samtools view's %d", len(got), len(want))
	}
}

// A hand-made stream: one parameter block with no context at all and two
// quality symbols; five zero bytes of coder state decode every model's
// first symbol: length bytes 0,0,0,0 would be an empty record, so the
// stream is checked for that error, and the parameter parser for its
// errors.
func TestHandStreams(t *testing.T) {
	params := []byte{Version, 0, 0, 0, 0, 2, 0, 0, 0}
	tests := []struct {
		name string
		in   []byte
	}{
		{"zero-length record", append(append([]byte{4}, params...), 0, 0, 0, 0, 0)},
		{"bad version", []byte{4, 4, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"truncated parameters", []byte{4, Version, 0, 0, 0}},
		{"selector without selectors", append([]byte{4, Version, 0, 0, 0, pflagDoSel, 2, 0, 0, 0}, 0, 0, 0, 0, 0)},
		{"size over limit", []byte{0xff, 0xff, 0xff, 0xff, 0x7f}},
		{"empty", nil},
	}
	for _, tt := range tests {
		got, err := DecodeLimit(tt.in, nil, 1<<20)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: got %v, %v; want *Error", tt.name, got, err)
		}
	}
	// A zero-length output needs no coded data at all.
	if got, err := Decode(append([]byte{0}, params...), nil); err != nil || len(got) != 0 {
		t.Errorf("empty output: got %v, %v", got, err)
	}
}

func TestReadArray(t *testing.T) {
	// Worked example of the specification: A = {0,1,3,4,5,6,7,7,7,7} is
	// stored as run lengths 1,1,0,1,1,1,1,4 with repeats coded as a count.
	var got [10]uint32
	n, err := readArray([]byte{1, 1, 0, 0, 1, 1, 2, 4}, got[:])
	want := [10]uint32{0, 1, 3, 4, 5, 6, 7, 7, 7, 7}
	if err != nil || got != want || n != 8 {
		t.Errorf("readArray = %v, %d, %v; want %v, 8", got, n, err, want)
	}
	if _, err := readArray([]byte{255}, got[:]); err == nil {
		t.Error("a run continuing past the input was accepted")
	}
}

func realBlocks(tb testing.TB, sam, ref, opts string) []testcram.Block {
	blocks, err := testcram.Blocks(testcram.Samtools(tb, sam, ref, opts))
	if err != nil {
		tb.Fatal(err)
	}
	var out []testcram.Block
	for _, b := range blocks {
		if b.Method == testcram.MethodFqzcomp {
			out = append(out, b)
		}
	}
	return out
}

func FuzzDecode(f *testing.F) {
	for _, b := range realBlocks(f, testcram.HtslibTestDir+"/ce#1000.sam", testcram.HtslibTestDir+"/ce.fa", "version=3.1,archive,seqs_per_slice=50") {
		if len(b.Data) < 3000 {
			f.Add(b.Data)
		}
	}
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

// BenchmarkDecode decodes whole-slice quality blocks of real qualities.
func BenchmarkDecode(b *testing.B) {
	inputs := []struct{ name, sam, ref string }{
		{"large_seq", testcram.HtslibTestDir + "/ce#large_seq.sam", testcram.HtslibTestDir + "/ce.fa"},
	}
	for _, in := range inputs {
		blocks := realBlocks(b, in.sam, in.ref, "version=3.1,archive,use_rans=0,use_arith=0,use_bzip2=0,use_lzma=0,seqs_per_slice=10000")
		total := 0
		for _, blk := range blocks {
			total += blk.RawSize
		}
		b.Run(in.name, func(b *testing.B) {
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
