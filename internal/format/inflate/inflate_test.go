package inflate

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	kflate "github.com/klauspost/compress/flate"
	owndeflate "github.com/seqstore/seqstore/internal/format/deflate"
	"github.com/seqstore/seqstore/internal/testutil"
	"github.com/seqstore/seqstore/internal/testutil/heapcap"
)

// readsText makes n bytes shaped like FASTQ records: headers that differ by a
// counter, random bases and a narrow range of quality characters.
func readsText(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 2))
	out := make([]byte, 0, n+300)
	for i := 0; len(out) < n; i++ {
		out = fmt.Appendf(out, "@sim:%d:%d/1\n", seed, i)
		for range 150 {
			out = append(out, "ACGTN"[rng.IntN(4)])
		}
		out = append(out, "\n+\n"...)
		for range 150 {
			out = append(out, byte('5'+rng.IntN(10)))
		}
		out = append(out, '\n')
	}
	return out[:n]
}

// alignmentRecords makes n bytes shaped like BAM records: little-endian
// integers that grow slowly, packed bases and repeated tags.
func alignmentRecords(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 3))
	out := make([]byte, 0, n+200)
	pos := uint32(1000)
	for i := 0; len(out) < n; i++ {
		pos += uint32(rng.IntN(40))
		out = binary.LittleEndian.AppendUint32(out, 180)
		out = binary.LittleEndian.AppendUint32(out, 0)
		out = binary.LittleEndian.AppendUint32(out, pos)
		out = binary.LittleEndian.AppendUint16(out, uint16(rng.IntN(61)))
		out = fmt.Appendf(out, "read%07d\x00", i)
		for range 50 {
			out = append(out, byte(rng.IntN(256)&0x77|0x11))
		}
		for range 100 {
			out = append(out, byte(20+rng.IntN(21)))
		}
		out = append(out, "NMC\x00MDZ100\x00"...)
	}
	return out[:n]
}

func randomBytes(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 4))
	out := make([]byte, n)
	for i := range out {
		out[i] = byte(rng.Uint32())
	}
	return out
}

// runs has repeats at every distance from 1 to 9, so matches overlap their
// own output in every way the eight-byte copy handles.
func runs(n int) []byte {
	var out []byte
	for len(out) < n {
		for d := 1; d <= 9; d++ {
			unit := []byte("abcdefghi")[:d]
			for range 300 / d {
				out = append(out, unit...)
			}
			out = append(out, byte('0'+d))
		}
	}
	return out[:n]
}

func deflate(t testing.TB, data []byte, level int) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// deflateBlocks compresses data in several blocks by flushing between
// pieces, which also puts an empty stored block after each piece.
func deflateBlocks(t testing.TB, data []byte, level, pieces int) []byte {
	t.Helper()
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, level)
	step := len(data)/pieces + 1
	for p := data; len(p) > 0; {
		n := min(step, len(p))
		w.Write(p[:n])
		w.Flush()
		p = p[n:]
	}
	w.Close()
	return b.Bytes()
}

// bitWriter assembles hand-made streams least significant bit first.
type bitWriter struct {
	out   []byte
	acc   uint64
	nbits uint
}

func (w *bitWriter) bits(v uint64, n uint) {
	w.acc |= v << w.nbits
	w.nbits += n
	for w.nbits >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.nbits -= 8
	}
}

// code writes a Huffman code most significant bit first.
func (w *bitWriter) code(c uint64, n uint) {
	for i := n; i > 0; i-- {
		w.bits(c>>(i-1)&1, 1)
	}
}

func (w *bitWriter) bytes() []byte {
	if w.nbits > 0 {
		return append(w.out, byte(w.acc))
	}
	return w.out
}

// fixedStream encodes literals, then a match, then more literals, with the
// fixed Huffman code: neither Go encoder writes fixed blocks for data of
// any size.
func fixedStream() (stream, want []byte) {
	var w bitWriter
	w.bits(1, 1) // final
	w.bits(1, 2) // fixed
	literal := func(c byte) {
		if c < 144 {
			w.code(0x30+uint64(c), 8)
		} else {
			w.code(0x190+uint64(c-144), 9)
		}
		want = append(want, c)
	}
	for _, c := range []byte("hello, \xffworld") {
		literal(c)
	}
	// Length 10 (symbol 264), distance 7 (code 5, base 7, one extra bit).
	w.code(264-256, 7)
	w.code(5, 5)
	w.bits(0, 1)
	for range 10 {
		want = append(want, want[len(want)-7])
	}
	literal('!')
	w.code(0, 7) // end of block
	return w.bytes(), want
}

type testCase struct {
	name   string
	stream []byte
	want   []byte
}

func testCases(t testing.TB) []testCase {
	inputs := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"one byte", []byte{'x'}},
		{"text", bytes.Repeat([]byte("The quick brown fox jumps over the lazy dog. "), 2000)},
		{"random", randomBytes(100000, 1)},
		{"reads", readsText(65280, 2)},
		{"records", alignmentRecords(65280, 3)},
		{"runs", runs(70000)},
		{"zeros", make([]byte, 300000)},
	}
	var cases []testCase
	for _, in := range inputs {
		for level := flate.HuffmanOnly; level <= flate.BestCompression; level++ {
			if level == flate.DefaultCompression {
				continue
			}
			cases = append(cases, testCase{fmt.Sprintf("%s/level=%d", in.name, level), deflate(t, in.data, level), in.data})
		}
		cases = append(cases, testCase{in.name + "/blocks", deflateBlocks(t, in.data, 6, 7), in.data})
	}
	stream, want := fixedStream()
	cases = append(cases, testCase{"fixed", stream, want})
	return cases
}

func TestDecompressMatchesStdlib(t *testing.T) {
	var d Decompressor
	for _, tc := range testCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			want, err := io.ReadAll(flate.NewReader(bytes.NewReader(tc.stream)))
			if err != nil {
				t.Fatalf("compress/flate: %v", err)
			}
			if !bytes.Equal(want, tc.want) {
				t.Fatalf("compress/flate does not give the input back")
			}
			// Exactly the room needed, as BGZF's ISIZE gives it.
			dst := make([]byte, len(want))
			n, in, err := d.Decompress(dst, tc.stream)
			if err != nil {
				t.Fatalf("Decompress: %v", err)
			}
			if n != len(want) || !bytes.Equal(dst[:n], want) {
				t.Fatalf("Decompress wrote %d bytes, want %d, differing", n, len(want))
			}
			if in != len(tc.stream) {
				t.Errorf("consumed %d bytes of a %d-byte stream", in, len(tc.stream))
			}
			// Plenty of room, and trailing data that is not consumed.
			dst = make([]byte, len(want)+1000)
			n, in, err = d.Decompress(dst, append(tc.stream[:len(tc.stream):len(tc.stream)], "trailer"...))
			if err != nil || n != len(want) || !bytes.Equal(dst[:n], want) || in != len(tc.stream) {
				t.Errorf("with room and a trailer: %d bytes, %d consumed, %v", n, in, err)
			}
			if len(want) > 0 {
				_, _, err := d.Decompress(make([]byte, len(want)-1), tc.stream)
				if !errors.Is(err, ErrShortBuffer) {
					t.Errorf("one byte short: err = %v, want ErrShortBuffer", err)
				}
			}
		})
	}
}

func TestTruncated(t *testing.T) {
	var d Decompressor
	for _, tc := range []testCase{
		{"dynamic", deflate(t, readsText(3000, 5), 6), nil},
		{"stored", deflate(t, randomBytes(300, 6), 0), nil},
		{"huffman only", deflate(t, readsText(2000, 7), flate.HuffmanOnly), nil},
		{"runs", deflate(t, runs(5000), 9), nil},
	} {
		dst := make([]byte, 10000)
		for cut := range len(tc.stream) {
			_, _, err := d.Decompress(dst, tc.stream[:cut])
			if !errors.Is(err, ErrUnexpectedEnd) {
				t.Errorf("%s cut to %d of %d bytes: err = %v, want ErrUnexpectedEnd", tc.name, cut, len(tc.stream), err)
			}
		}
	}
}

func TestCorrupt(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stream []byte
	}{
		{"reserved block type", []byte{0x07}},
		{"stored length complement", []byte{0x01, 0x05, 0x00, 0xfa, 0xfe}},
		{"distance before start", func() []byte {
			var w bitWriter
			w.bits(1, 1)
			w.bits(1, 2)
			w.code(257-256, 7) // length 3
			w.code(0, 5)       // distance 1, with no output yet
			return w.bytes()
		}()},
		{"fixed distance code 30", func() []byte {
			var w bitWriter
			w.bits(1, 1)
			w.bits(1, 2)
			w.code(0x30+'a', 8)
			w.code(257-256, 7)
			w.code(30, 5)
			return w.bytes()
		}()},
		{"fixed literal/length symbol 286", func() []byte {
			var w bitWriter
			w.bits(1, 1)
			w.bits(1, 2)
			w.code(0xc0+286-280, 8)
			return w.bytes()
		}()},
		{"over-subscribed code-length code", codeLenHeader(1)},
		{"incomplete code-length code", codeLenHeader(3)},
	} {
		var d Decompressor
		_, _, err := d.Decompress(make([]byte, 100), tc.stream)
		var ce CorruptError
		if !errors.As(err, &ce) {
			t.Errorf("%s: err = %v, want a CorruptError", tc.name, err)
		}
		if _, err := io.ReadAll(flate.NewReader(bytes.NewReader(tc.stream))); err == nil {
			t.Errorf("%s: compress/flate accepts it", tc.name)
		}
	}
}

// codeLenHeader starts a dynamic block whose code-length code gives its
// first four symbols codes of the same length.
func codeLenHeader(length uint64) []byte {
	var w bitWriter
	w.bits(1, 1)
	w.bits(2, 2)
	w.bits(0, 5)
	w.bits(0, 5)
	w.bits(0, 4)
	for range 4 {
		w.bits(length, 3)
	}
	return append(w.bytes(), 0, 0, 0, 0)
}

// TestFlippedBits checks that damaged streams fail as compress/flate does,
// or decode to what it decodes, and never panic.
func TestFlippedBits(t *testing.T) {
	var d Decompressor
	rng := rand.New(rand.NewPCG(9, 9))
	streams := [][]byte{
		deflate(t, readsText(4000, 8), 6),
		deflate(t, alignmentRecords(4000, 9), 1),
		deflate(t, runs(4000), 9),
		deflate(t, readsText(4000, 10), flate.HuffmanOnly),
	}
	for _, stream := range streams {
		for range 2000 {
			damaged := bytes.Clone(stream)
			for range 1 + rng.IntN(3) {
				damaged[rng.IntN(len(damaged))] ^= 1 << rng.IntN(8)
			}
			compareWithStdlib(t, &d, damaged)
		}
	}
}

// compareWithStdlib checks that Decompress and compress/flate agree on
// stream: the same output, or both fail.
func compareWithStdlib(t *testing.T, d *Decompressor, stream []byte) {
	t.Helper()
	const limit = 1 << 20
	want, wantErr := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(stream)), limit+1))
	dst := make([]byte, limit)
	n, in, err := d.Decompress(dst, stream)
	if in > len(stream) || n > len(dst) {
		t.Fatalf("returned %d written, %d consumed: beyond the buffers", n, in)
	}
	switch {
	case len(want) > limit:
		if !errors.Is(err, ErrShortBuffer) {
			t.Fatalf("output over %d bytes: err = %v, want ErrShortBuffer", limit, err)
		}
	case wantErr != nil:
		if err == nil {
			t.Fatalf("compress/flate fails (%v) but Decompress succeeds", wantErr)
		}
	case err != nil:
		t.Fatalf("compress/flate succeeds but Decompress fails: %v", err)
	case !bytes.Equal(dst[:n], want):
		t.Fatalf("outputs differ: %d bytes vs compress/flate's %d", n, len(want))
	}
}

func FuzzDecompress(f *testing.F) {
	f.Add(deflate(f, readsText(2000, 11), 6))
	f.Add(deflate(f, alignmentRecords(2000, 12), 1))
	f.Add(deflate(f, runs(3000), 9))
	f.Add(deflate(f, randomBytes(100, 13), 0))
	f.Add(deflate(f, readsText(500, 14), flate.HuffmanOnly))
	f.Add(deflateBlocks(f, readsText(3000, 15), 5, 3))
	stream, _ := fixedStream()
	f.Add(stream)
	f.Add([]byte{})
	var d Decompressor
	f.Fuzz(func(t *testing.T, stream []byte) {
		heapcap.Check(t, heapcap.Ceiling, func() {
			compareWithStdlib(t, &d, stream)
		})
	})
}

// blockPayloads cuts data into BGZF-sized pieces and deflates each with
// compress.
func blockPayloads(data []byte, compress func([]byte) []byte) (streams [][]byte, total int) {
	const blockData = 65280
	for p := data; len(p) > 0; {
		n := min(blockData, len(p))
		streams = append(streams, compress(p[:n]))
		p = p[n:]
	}
	return streams, len(data)
}

func BenchmarkDecompress(b *testing.B) {
	for _, data := range []struct {
		name string
		data []byte
	}{
		{"reads", readsText(8<<20, 20)},
		{"records", alignmentRecords(8<<20, 21)},
	} {
		for _, level := range []int{flate.HuffmanOnly, 1, 6} {
			streams, total := blockPayloads(data.data, func(p []byte) []byte { return deflate(b, p, level) })
			dst := make([]byte, 65536)
			prefix := fmt.Sprintf("%s/level=%d/", data.name, level)
			b.Run(prefix+"impl=inflate", func(b *testing.B) {
				var d Decompressor
				b.SetBytes(int64(total))
				for b.Loop() {
					for _, s := range streams {
						if _, _, err := d.Decompress(dst, s); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
			b.Run(prefix+"impl=klauspost", func(b *testing.B) {
				src := bytes.NewReader(nil)
				fr := kflate.NewReader(src)
				b.SetBytes(int64(total))
				for b.Loop() {
					for _, s := range streams {
						src.Reset(s)
						fr.(kflate.Resetter).Reset(src, nil)
						if _, err := readAllInto(fr, dst); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}

// BenchmarkDecompressStoredReads inflates what seqstore stores for a plain
// FASTQ upload: Debian's HiSeq X reads (seqkit-examples), cut in BGZF-sized
// blocks and deflated by the project's own deflater at its default level.
// Real reads are mostly short matches, which synthetic text underplays.
func BenchmarkDecompressStoredReads(b *testing.B) {
	c := owndeflate.NewCompressor(owndeflate.DefaultLevel)
	streams, total := blockPayloads(testutil.HiSeqXReads(b), func(p []byte) []byte { return c.Compress(nil, p) })
	dst := make([]byte, 65536)
	var d Decompressor
	b.SetBytes(int64(total))
	for b.Loop() {
		for _, s := range streams {
			if _, _, err := d.Decompress(dst, s); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// readAllInto reads r to its end into dst.
func readAllInto(r io.Reader, dst []byte) (int, error) {
	n := 0
	for {
		m, err := r.Read(dst[n:])
		n += m
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

func TestDecompressDoesNotAllocate(t *testing.T) {
	stream := deflate(t, readsText(60000, 16), 6)
	dst := make([]byte, 60000)
	var d Decompressor
	if n := testing.AllocsPerRun(20, func() { d.Decompress(dst, stream) }); n != 0 {
		t.Errorf("%v allocations per call, want none", n)
	}
}
