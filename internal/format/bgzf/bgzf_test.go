package bgzf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seqstore/seqstore/internal/testutil"
	"github.com/seqstore/seqstore/internal/testutil/heapcap"
	"github.com/seqstore/seqstore/internal/testutil/leak"
)

// fastqLike makes n bytes of text that compresses like sequencing reads.
func fastqLike(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "@read%d/1\n", i)
		for range 100 {
			b.WriteByte("ACGT"[rng.IntN(4)])
		}
		b.WriteString("\n+\n")
		for range 100 {
			b.WriteByte(byte('!' + 20 + rng.IntN(21)))
		}
		b.WriteByte('\n')
	}
	return b.Bytes()[:n]
}

func compressBGZF(t testing.TB, data []byte, opts WriterOptions) ([]byte, []BlockInfo) {
	t.Helper()
	var out bytes.Buffer
	var blocks []BlockInfo
	opts.BlockWritten = func(b BlockInfo) { blocks = append(blocks, b) }
	w, err := NewWriterOptions(&out, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Odd-sized writes, so that blocks fill across Write calls.
	for p := data; len(p) > 0; {
		n := min(len(p), 12345)
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), blocks
}

func decompressAll(t testing.TB, compressed []byte, workers int) ([]byte, *Reader, error) {
	t.Helper()
	r := NewReaderWorkers(bytes.NewReader(compressed), workers)
	defer r.Close()
	got, err := io.ReadAll(r)
	return got, r, err
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		size int
		opts WriterOptions
	}{
		{"empty", 0, WriterOptions{}},
		{"one byte", 1, WriterOptions{}},
		{"exactly one block", BlockDataSize, WriterOptions{}},
		{"one block and a byte", BlockDataSize + 1, WriterOptions{}},
		{"many blocks", 3<<20 + 17, WriterOptions{}},
		{"stored", 200000, WriterOptions{Level: 0, LevelSet: true}},
		{"level 1, one worker", 500000, WriterOptions{Level: 1, LevelSet: true, Workers: 1}},
		{"level 9", 200000, WriterOptions{Level: 9, LevelSet: true}},
		{"Huffman only", 500000, WriterOptions{Level: HuffmanOnly, LevelSet: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := fastqLike(tt.size, 7)
			compressed, blocks := compressBGZF(t, data, tt.opts)
			if !bytes.HasSuffix(compressed, EOFMarker) {
				t.Errorf("output does not end with the EOF marker")
			}
			wantBlocks := (tt.size + BlockDataSize - 1) / BlockDataSize
			if len(blocks) != wantBlocks {
				t.Errorf("got %d blocks, want %d", len(blocks), wantBlocks)
			}
			for _, workers := range []int{1, 2, 3} {
				got, r, err := decompressAll(t, compressed, workers)
				if err != nil {
					t.Fatalf("workers %d: %v", workers, err)
				}
				if !bytes.Equal(got, data) {
					t.Fatalf("workers %d: round trip differs: got %d bytes, want %d", workers, len(got), len(data))
				}
				if !r.SawEOFMarker() {
					t.Errorf("workers %d: SawEOFMarker() = false", workers)
				}
			}
		})
	}
}

func TestIncompressibleBlocksFit(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, 3*BlockDataSize)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for _, level := range []int{HuffmanOnly, 1, 6, 9} {
		compressed, blocks := compressBGZF(t, data, WriterOptions{Level: level, LevelSet: true})
		for _, b := range blocks {
			if b.Size > MaxBlockSize {
				t.Errorf("level %d: block at %d is %d bytes", level, b.Offset, b.Size)
			}
		}
		got, _, err := decompressAll(t, compressed, 2)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("level %d: round trip failed: %v", level, err)
		}
	}
}

// readGZI reads a bgzip .gzi index: the (compressed, uncompressed) offsets
// of every block after the first.
func readGZI(t *testing.T, path string) [][2]uint64 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(raw)
	var out [][2]uint64
	for i := range n {
		p := raw[8+16*i:]
		out = append(out, [2]uint64{binary.LittleEndian.Uint64(p), binary.LittleEndian.Uint64(p[8:])})
	}
	return out
}

// TestAgainstBgzip checks both directions against htslib's bgzip: what it
// writes, Reader reads, with the virtual offsets its .gzi index implies;
// what Writer writes, bgzip decompresses and indexes with the block offsets
// BlockWritten reported.
func TestAgainstBgzip(t *testing.T) {
	bgzip := testutil.RequireTool(t, "bgzip")
	dir := t.TempDir()
	data := fastqLike(1<<20+333, 11)
	plain := filepath.Join(dir, "reads.fq")
	if err := os.WriteFile(plain, data, 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("bgzip writes, Reader reads", func(t *testing.T) {
		testutil.Run(t, bgzip, "-f", "-k", "-@2", "-i", plain)
		compressed, err := os.ReadFile(plain + ".gz")
		if err != nil {
			t.Fatal(err)
		}
		// Block starts from the .gzi; the first block starts at 0:0.
		type start struct{ compressed, uncompressed uint64 }
		starts := []start{{0, 0}}
		for _, e := range readGZI(t, plain+".gz.gzi") {
			starts = append(starts, start{e[0], e[1]})
		}
		r := NewReader(bytes.NewReader(compressed))
		defer r.Close()
		var got []byte
		block := 0
		for u := uint64(0); ; u++ {
			for block+1 < len(starts) && starts[block+1].uncompressed <= u {
				block++
			}
			// Before each byte, the offset is the block holding it and the
			// byte's place in that block, as bgzf_tell would say.
			s := starts[block]
			want := MakeVirtualOffset(int64(s.compressed), int(u-s.uncompressed))
			vo := r.VirtualOffset()
			c, err := r.ReadByte()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if vo != want {
				t.Fatalf("before byte %d: VirtualOffset() = %v, want %v", u, vo, want)
			}
			got = append(got, c)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("decompressed %d bytes differ from the %d bgzip compressed", len(got), len(data))
		}
		if !r.SawEOFMarker() {
			t.Errorf("SawEOFMarker() = false for bgzip output")
		}
	})

	t.Run("Writer writes, bgzip reads", func(t *testing.T) {
		compressed, blocks := compressBGZF(t, data, WriterOptions{})
		path := filepath.Join(dir, "ours.fq.gz")
		if err := os.WriteFile(path, compressed, 0o644); err != nil {
			t.Fatal(err)
		}
		got := testutil.Run(t, bgzip, "-d", "-c", path)
		if !bytes.Equal(got, data) {
			t.Fatalf("bgzip -d gives %d bytes, want %d", len(got), len(data))
		}
		testutil.Run(t, bgzip, "-r", path)
		gzi := readGZI(t, path+".gzi")
		if len(gzi) != len(blocks)-1 {
			t.Fatalf("bgzip indexes %d blocks after the first, BlockWritten reported %d in all", len(gzi), len(blocks))
		}
		for i, e := range gzi {
			b := blocks[i+1]
			if got, want := [2]uint64{uint64(b.Offset), uint64(b.DataOffset)}, e; got != want {
				t.Errorf("block %d: BlockWritten says %v, bgzip -r says %v", i+1, got, want)
			}
		}
	})
}

// TestVirtualOffsets reads a stream record by record the way a BAM indexer
// does and checks each offset against the block layout BlockWritten reported.
func TestVirtualOffsets(t *testing.T) {
	data := fastqLike(400000, 5)
	compressed, blocks := compressBGZF(t, data, WriterOptions{})
	r := NewReader(bytes.NewReader(compressed))
	defer r.Close()
	want := func(u int64) VirtualOffset {
		for _, b := range blocks {
			if u < b.DataOffset+int64(b.DataSize) {
				return MakeVirtualOffset(b.Offset, int(u-b.DataOffset))
			}
		}
		last := blocks[len(blocks)-1]
		return MakeVirtualOffset(last.Offset+int64(last.Size), 0)
	}
	buf := make([]byte, 777)
	var u int64
	for {
		if got, w := r.VirtualOffset(), want(u); u > 0 && got != w {
			t.Fatalf("after %d bytes: VirtualOffset() = %v, want %v", u, got, w)
		}
		n, err := io.ReadFull(r, buf)
		u += int64(n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if u != int64(len(data)) {
		t.Fatalf("read %d bytes, want %d", u, len(data))
	}
	// At the end, the offset names the EOF marker block.
	if got, w := r.VirtualOffset(), MakeVirtualOffset(int64(len(compressed)-len(EOFMarker)), 0); got != w {
		t.Errorf("at the end VirtualOffset() = %v, want %v", got, w)
	}
}

func TestDefects(t *testing.T) {
	data := fastqLike(3*BlockDataSize, 9)
	good, blocks := compressBGZF(t, data, WriterOptions{})
	second := blocks[1].Offset
	third := blocks[2].Offset
	mutate := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), good...))
	}
	tests := []struct {
		name    string
		input   []byte
		wantErr string // "" for success
		wantEOF bool
	}{
		{"good", good, "", true},
		{"no EOF marker", good[:len(good)-len(EOFMarker)], "", false},
		{"empty input", nil, "", false},
		{"truncated in a block", good[:third+100],
			fmt.Sprintf("BGZF block at offset %d: truncated: the file ends after 100 of the block's %d bytes", third, blocks[2].Size), false},
		{"truncated in a header", good[:second+5],
			fmt.Sprintf("BGZF block at offset %d: truncated: the file ends 5 bytes into the block header", second), false},
		{"bad CRC", mutate(func(b []byte) []byte { b[third-8] ^= 0xff; return b }),
			fmt.Sprintf("BGZF block at offset %d: CRC32 of the inflated data is", second), false},
		{"ISIZE too small", mutate(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[third-4:], BlockDataSize-1); return b }),
			fmt.Sprintf("BGZF block at offset %d: inflates to more than the %d bytes ISIZE says", second, BlockDataSize-1), false},
		{"ISIZE too large", mutate(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[third-4:], MaxDataSize+1); return b }),
			fmt.Sprintf("BGZF block at offset %d: ISIZE 65537 exceeds", second), false},
		{"corrupt deflate", mutate(func(b []byte) []byte { copy(b[second+18:], "\xff\xff\xff\xff\xff\xff"); return b }),
			fmt.Sprintf("BGZF block at offset %d:", second), false},
		{"BSIZE too small", mutate(func(b []byte) []byte { b[second+16] = 10; b[second+17] = 0; return b }),
			fmt.Sprintf("BGZF block at offset %d: BSIZE says the block is 11 bytes", second), false},
		{"trailing garbage", append(append([]byte(nil), good...), "hello, world"...),
			fmt.Sprintf("BGZF block at offset %d: not a BGZF block: starts with bytes 68656c6c", len(good)), false},
		{"plain gzip", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0},
			"BGZF block at offset 0: gzip member without an extra field", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, workers := range []int{1, 2} {
				got, r, err := decompressAll(t, tt.input, workers)
				if tt.wantErr == "" {
					if err != nil {
						t.Fatalf("unexpected error %v", err)
					}
				} else {
					var be *BlockError
					if err == nil || !errors.As(err, &be) || !strings.HasPrefix(err.Error(), tt.wantErr) {
						t.Fatalf("got error %v, want one starting %q", err, tt.wantErr)
					}
					// Everything before the bad block is delivered.
					if len(got) < int(be.Offset/int64(len(good))) || !bytes.Equal(got, data[:len(got)]) {
						t.Errorf("data before the defect differs")
					}
				}
				if r.SawEOFMarker() != tt.wantEOF {
					t.Errorf("SawEOFMarker() = %v, want %v", r.SawEOFMarker(), tt.wantEOF)
				}
			}
		})
	}
}

func TestCloseEarly(t *testing.T) {
	compressed, _ := compressBGZF(t, fastqLike(2<<20, 1), WriterOptions{})
	r := NewReader(bytes.NewReader(compressed))
	buf := make([]byte, 1000)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if _, err := r.Read(buf); err == nil {
		t.Errorf("Read after Close succeeded")
	}
}

func TestFlushStartsABlock(t *testing.T) {
	var out bytes.Buffer
	var blocks []BlockInfo
	w, _ := NewWriterOptions(&out, WriterOptions{BlockWritten: func(b BlockInfo) { blocks = append(blocks, b) }})
	w.Write([]byte("header"))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := w.Offset(), int64(out.Len()); got != want || got == 0 {
		t.Errorf("Offset() after Flush = %d, want %d", got, want)
	}
	w.Write([]byte("records"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 2 || blocks[1].DataOffset != 6 || blocks[1].DataSize != 7 {
		t.Errorf("blocks = %+v, want a 6-byte block then a 7-byte one", blocks)
	}
}

func FuzzReader(f *testing.F) {
	small, _ := compressBGZF(f, []byte("@r1\nACGT\n+\nIIII\n"), WriterOptions{})
	two, _ := compressBGZF(f, fastqLike(BlockDataSize+10, 2), WriterOptions{Level: 1, LevelSet: true})
	f.Add(small)
	f.Add(two[:200])
	f.Add(EOFMarker)
	f.Add([]byte{})
	f.Add([]byte{0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, 'B', 'C', 2, 0, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, input []byte) {
		heapcap.Check(t, heapcap.Ceiling, func() {
			r := NewReaderWorkers(bytes.NewReader(input), 2)
			defer r.Close()
			var n int
			buf := make([]byte, 333)
			for {
				vo := r.VirtualOffset()
				if vo.BlockOffset() > int64(len(input)) {
					t.Fatalf("virtual offset %v beyond the input's %d bytes", vo, len(input))
				}
				m, err := r.Read(buf)
				n += m
				if err != nil {
					var be *BlockError
					if err != io.EOF && !errors.As(err, &be) {
						t.Fatalf("error %v is not a *BlockError", err)
					}
					break
				}
			}
			if n > len(input)*1100 {
				t.Fatalf("%d bytes from %d of input", n, len(input))
			}
		})
	})
}

func BenchmarkReader(b *testing.B) {
	data := fastqLike(16<<20, 1)
	compressed, _ := compressBGZF(b, data, WriterOptions{})
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				r := NewReaderWorkers(bytes.NewReader(compressed), workers)
				if _, err := io.Copy(io.Discard, r); err != nil {
					b.Fatal(err)
				}
				r.Close()
			}
		})
	}
}

func BenchmarkWriter(b *testing.B) {
	data := fastqLike(8<<20, 1)
	for _, level := range []int{HuffmanOnly, 1, 6} {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("level=%d/workers=%d", level, workers), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					w, _ := NewWriterOptions(io.Discard, WriterOptions{Level: level, LevelSet: true, Workers: workers})
					w.Write(data)
					if err := w.Close(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestBgzipSpeed is not a test of correctness: with -v it prints how long
// bgzip takes on the benchmark's data, for comparison with BenchmarkReader.
func TestBgzipSpeed(t *testing.T) {
	if !testing.Verbose() || testing.Short() {
		t.Skip("only with -v")
	}
	bgzip := testutil.RequireTool(t, "bgzip")
	dir := t.TempDir()
	data := fastqLike(16<<20, 1)
	path := filepath.Join(dir, "x.gz")
	compressed, _ := compressBGZF(t, data, WriterOptions{})
	os.WriteFile(path, compressed, 0o644)
	for _, threads := range []string{"1", "2"} {
		cmd := exec.Command(bgzip, "-d", "-c", "-@"+threads, path)
		cmd.Stdout = io.Discard
		start := time.Now()
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		t.Logf("bgzip -d -@%s: %.0f MB/s", threads, float64(len(data))/1e6/time.Since(start).Seconds())
	}
}

// TestCloseStopsReading closes a Reader early in a long stream: once Close
// returns, no goroutine of it runs and none reads the source.
func TestCloseStopsReading(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1 << 20 {
		w.Write([]byte{byte(rng.Uint32())})
	}
	w.Close()
	done := leak.Check(t)
	var g leak.Guard
	r := NewReader(g.Reader(leak.Slow(bytes.NewReader(buf.Bytes()))))
	if _, err := io.ReadFull(r, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	r.Close()
	g.Seal()
	done()
	g.Verify(t)
}
