package codec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"sort"
	"testing"

	"github.com/ulikunitz/xz"

	"github.com/seqstore/seqstore/internal/format/cram/codec/internal/testcram"
	"github.com/seqstore/seqstore/internal/testutil/heapcap"
)

// TestSamtoolsFiles decompresses every block of CRAM files that samtools
// writes in each version and profile, including lzma and bzip2, and checks
// each against its declared raw size; the data series must match between
// profiles.
func TestSamtoolsFiles(t *testing.T) {
	dir := testcram.HtslibTestDir
	profiles := []string{
		"version=3.0",
		"version=3.0,use_bzip2=1,use_lzma=1,level=9",
		"version=3.0,use_rans=0,use_bzip2=0,use_lzma=1,level=9",
		"version=3.1,fast",
		"version=3.1",
		"version=3.1,small",
		"version=3.1,archive",
		"version=3.1,archive,level=9",
	}
	inputs := []struct{ name, sam, ref string }{
		{"ce1000", dir + "/ce#1000.sam", dir + "/ce.fa"},
		{"lambda", testcram.LambdaReads(t, 1000), ""},
	}
	methods := map[Method]int{}
	decode := func(b testcram.Block) ([]byte, bool, error) {
		methods[Method(b.Method)]++
		out, err := Decompress(Method(b.Method), b.Data, b.RawSize, nil)
		return out, true, err
	}
	for _, in := range inputs {
		// The gzip-only file is the reference for the data series.
		blocks, err := testcram.Blocks(testcram.Samtools(t, in.sam, in.ref, "version=3.0,use_rans=0,use_bzip2=0,use_lzma=0,seqs_per_slice=300"))
		if err != nil {
			t.Fatal(err)
		}
		reference := testcram.Streams(t, blocks, decode)
		for _, opts := range profiles {
			t.Run(in.name+"/"+opts, func(t *testing.T) {
				blocks, err := testcram.Blocks(testcram.Samtools(t, in.sam, in.ref, opts+",seqs_per_slice=300"))
				if err != nil {
					t.Fatal(err)
				}
				testcram.CompareStreams(t, testcram.Streams(t, blocks, decode), reference)
			})
		}
	}
	var seen []string
	for m, n := range methods {
		seen = append(seen, fmt.Sprintf("%v:%d", m, n))
	}
	sort.Strings(seen)
	t.Logf("blocks by method: %v", seen)
	for m := Raw; m <= Tok3; m++ {
		if methods[m] == 0 {
			t.Errorf("no %v block decoded", m)
		}
	}
}

func TestDecompressErrors(t *testing.T) {
	tests := []struct {
		name string
		m    Method
		src  []byte
		raw  int
	}{
		{"unknown method", 9, nil, 0},
		{"raw size mismatch", Raw, []byte("abc"), 2},
		{"negative raw size", Raw, nil, -1},
		{"gzip garbage", Gzip, []byte("not gzip"), 3},
		{"cat stream too short", RansNx16, []byte{0x20, 3, 'a', 'b', 'c'}, 2},
	}
	for _, tt := range tests {
		if got, err := Decompress(tt.m, tt.src, tt.raw, nil); err == nil {
			t.Errorf("%s: got %q, want an error", tt.name, got)
		}
	}
	if got, err := Decompress(Raw, []byte("abc"), 3, make([]byte, 0, 8)); err != nil || !bytes.Equal(got, []byte("abc")) {
		t.Errorf("raw: got %q, %v", got, err)
	}
}

func FuzzDecompress(f *testing.F) {
	blocks, err := testcram.Blocks(testcram.Samtools(f, testcram.HtslibTestDir+"/ce#1000.sam", testcram.HtslibTestDir+"/ce.fa", "version=3.1,small,seqs_per_slice=100"))
	if err != nil {
		f.Fatal(err)
	}
	for _, b := range blocks {
		if len(b.Data) < 1000 {
			f.Add(b.Method, b.Data, uint16(b.RawSize))
		}
	}
	f.Fuzz(func(t *testing.T, method byte, src []byte, raw uint16) {
		heapcap.Check(t, heapcap.Ceiling, func() {
			out, err := Decompress(Method(method), src, int(raw), nil)
			if err == nil && len(out) != int(raw) {
				t.Fatalf("%v: %d bytes, want %d", Method(method), len(out), raw)
			}
		})
	})
}

// TestLZMADictionaryBounded decodes xz blocks whose LZMA2 filter declares
// a dictionary of up to 4 GiB, which the xz library would allocate before
// decoding a byte: the output must come out while holding little.
func TestLZMADictionaryBounded(t *testing.T) {
	plain := bytes.Repeat([]byte("ACGTTGCA"), 1000)
	var buf bytes.Buffer
	w, err := xz.WriterConfig{DictCap: 1 << 16}.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(plain)
	w.Close()
	for _, code := range []byte{22, 36, 40} { // 4 MiB, 512 MiB, 4 GiB
		stream := append([]byte(nil), buf.Bytes()...)
		// The first block header follows the 12-byte stream header; with
		// neither size present, its one filter is the LZMA2 ID, a
		// properties size of 1 and the dictionary code.
		h := stream[12 : 12+(int(stream[12])+1)*4]
		if h[1] != 0 || h[2] != 0x21 || h[3] != 1 {
			t.Fatalf("unexpected block header %x", h)
		}
		h[4] = code
		binary.LittleEndian.PutUint32(h[len(h)-4:], crc32.ChecksumIEEE(h[:len(h)-4]))
		var out []byte
		heapcap.Check(t, heapcap.Ceiling, func() {
			out, err = Decompress(LZMA, stream, len(plain), nil)
		})
		if err != nil || !bytes.Equal(out, plain) {
			t.Errorf("dictionary code %d: %v, %d bytes", code, err, len(out))
		}
	}
}
