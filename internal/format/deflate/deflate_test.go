package deflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	kflate "github.com/klauspost/compress/flate"

	"github.com/seqstore/seqstore/internal/format/inflate"
	"github.com/seqstore/seqstore/internal/testutil"
)

// fastqLike returns n bytes of FASTQ records with Illumina-style names,
// random bases and qualities that drift along the read, as sequencers'
// do: the data this package is for.
func fastqLike(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "@A00488:61:HMLGNDSXX:4:%d:%d:%d 1:N:0:ACGTACGT\n", 1101+i/500, rng.IntN(30000), rng.IntN(30000))
		for range 150 {
			b.WriteByte("ACGT"[rng.IntN(4)])
		}
		b.WriteString("\n+\n")
		q := 38
		for range 150 {
			q = min(max(q+rng.IntN(5)-2, 2), 40)
			if rng.IntN(20) == 0 {
				q = 2 + rng.IntN(10)
			}
			b.WriteByte(byte('!' + q))
		}
		b.WriteByte('\n')
	}
	return b.Bytes()[:n]
}

// inputs are the round trip's cases: edges of the format and of the
// match finder, and real-looking data.
func inputs() []struct {
	name string
	data []byte
} {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 70000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	return []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"one byte", []byte{'A'}},
		// Past 143, the fixed code's literals take nine bits, numbered
		// after all eight-bit codes, the two unused symbols' included.
		{"one byte over 143, fixed code", []byte{0xb7}},
		{"three bytes", []byte("abc")},
		{"one byte repeated", bytes.Repeat([]byte{'N'}, 65280)},
		{"longest matches", bytes.Repeat([]byte("0123456789"), 3000)},
		{"random, stored", random},
		{"two symbols", bytes.Repeat([]byte("AB"), 10)},
		{"all byte values", func() []byte {
			b := make([]byte, 256*40)
			for i := range b {
				b[i] = byte(i * 7)
			}
			return b
		}()},
		{"FASTQ, one block", fastqLike(65280, 3)},
		{"FASTQ, 200 KB", fastqLike(200000, 4)},
		{"FASTQ then random", append(fastqLike(30000, 5), random[:30000]...)},
	}
}

// Every level's output inflates to its input, with the standard library's
// decoder and with the project's.
func TestRoundTrip(t *testing.T) {
	for _, in := range inputs() {
		for level := MinLevel; level <= MaxLevel; level++ {
			t.Run(fmt.Sprintf("%s/level %d", in.name, level), func(t *testing.T) {
				z := NewCompressor(level).Compress([]byte("prefix"), in.data)
				if string(z[:6]) != "prefix" {
					t.Fatalf("the output does not follow what dst held")
				}
				checkInflates(t, z[6:], in.data)
			})
		}
	}
}

func checkInflates(t *testing.T, z, want []byte) {
	t.Helper()
	got, err := io.ReadAll(flate.NewReader(bytes.NewReader(z)))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("compress/flate read %d bytes (%v), want the %d of the input", len(got), err, len(want))
	}
	out := make([]byte, len(want)+1)
	n, used, err := new(inflate.Decompressor).Decompress(out, z)
	if err != nil || n != len(want) || !bytes.Equal(out[:n], want) || used != len(z) {
		t.Fatalf("inflate: %d bytes from %d of %d (%v), want the input from all", n, used, len(z), err)
	}
}

// A Compressor used again gives each input the output a fresh one does.
func TestCompressorReuse(t *testing.T) {
	c := NewCompressor(DefaultLevel)
	for _, in := range inputs() {
		got := c.Compress(nil, in.data)
		want := NewCompressor(DefaultLevel).Compress(nil, in.data)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: a reused compressor wrote other bytes", in.name)
		}
	}
}

// Real reads compress better than with the deflater seqstore used before,
// klauspost/compress at level 6, and than compress/flate at its best: the
// reason this package exists. (bench/space.sh sets it against bgzip.)
func TestSmallerThanOtherDeflaters(t *testing.T) {
	data := testutil.HiSeqXReads(t)
	sizes := map[string]int{}
	c := NewCompressor(DefaultLevel)
	for off := 0; off < len(data); off += 65280 {
		block := data[off:min(off+65280, len(data))]
		sizes["here"] += len(c.Compress(nil, block))
		for name, w := range map[string]func(io.Writer) io.WriteCloser{
			"klauspost/compress level 6": func(w io.Writer) io.WriteCloser { fw, _ := kflate.NewWriter(w, 6); return fw },
			"compress/flate level 9":     func(w io.Writer) io.WriteCloser { fw, _ := flate.NewWriter(w, 9); return fw },
		} {
			var b bytes.Buffer
			fw := w(&b)
			fw.Write(block)
			fw.Close()
			sizes[name] += b.Len()
		}
	}
	for name, n := range sizes {
		t.Logf("%s: %d bytes (%.2f%%)", name, n, 100*float64(n)/float64(len(data)))
		if name != "here" && sizes["here"] >= n {
			t.Errorf("%d bytes of FASTQ compressed to %d here, to %d by %s", len(data), sizes["here"], n, name)
		}
	}
}

func FuzzRoundTrip(f *testing.F) {
	for _, in := range inputs() {
		if len(in.data) < 4096 {
			f.Add(in.data, uint8(DefaultLevel))
		}
	}
	f.Add(fastqLike(3000, 1), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, level uint8) {
		z := NewCompressor(int(level%10)).Compress(nil, data)
		checkInflates(t, z, data)
	})
}

func BenchmarkCompressFASTQ(b *testing.B) {
	data := fastqLike(65280, 7)
	c := NewCompressor(DefaultLevel)
	var out []byte
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		out = c.Compress(out[:0], data)
	}
	b.ReportMetric(float64(len(out))/float64(len(data)), "ratio")
}

// Codes are complete (Kraft's sum is exactly one) and within their limit,
// however skewed the counts: Fibonacci counts make the deepest trees.
func TestHuffmanCodesAreCompleteAndLimited(t *testing.T) {
	fib := make([]uint32, 30)
	fib[0], fib[1] = 1, 1
	for i := 2; i < len(fib); i++ {
		fib[i] = fib[i-1] + fib[i-2]
	}
	rng := rand.New(rand.NewPCG(3, 4))
	random := make([]uint32, numLitLen)
	for i := range random {
		if rng.IntN(3) > 0 {
			random[i] = uint32(rng.ExpFloat64() * 1000)
		}
	}
	for _, c := range []struct {
		name  string
		freq  []uint32
		limit int
	}{
		{"none used", make([]uint32, numDist), maxCodeLen},
		{"one used", []uint32{0, 0, 5, 0}, maxCodeLen},
		{"two used", []uint32{7, 0, 0, 1}, maxPreLen},
		{"Fibonacci, limit 15", fib, maxCodeLen},
		{"Fibonacci, limit 7", fib[:numPrecode], maxPreLen},
		{"random", random, maxCodeLen},
	} {
		t.Run(c.name, func(t *testing.T) {
			lens := make([]uint8, len(c.freq))
			var h huffBuilder
			h.build(c.freq, c.limit, lens)
			kraft, used := 0, 0
			for s, l := range lens {
				if int(l) > c.limit {
					t.Fatalf("symbol %d has length %d, over the limit %d", s, l, c.limit)
				}
				if c.freq[s] > 0 && l == 0 {
					t.Fatalf("used symbol %d has no code", s)
				}
				if l > 0 {
					kraft += 1 << (c.limit - int(l))
					used++
				}
			}
			if kraft != 1<<c.limit || used < 2 {
				t.Errorf("Kraft's sum %d/%d with %d codes, want a complete code of two or more", kraft, 1<<c.limit, used)
			}
		})
	}
}
