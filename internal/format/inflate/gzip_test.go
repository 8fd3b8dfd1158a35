package inflate

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"testing"
	"testing/iotest"

	kgzip "github.com/klauspost/compress/gzip"
	"github.com/seqstore/seqstore/internal/testutil/heapcap"
)

func gzipMember(t testing.TB, data []byte, level int, header gzip.Header) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Header = header
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withHeaderCRC rebuilds a member's header with FHCRC set, as the Go
// writers never do.
func withHeaderCRC(member []byte) []byte {
	h := bytes.Clone(member[:10])
	h[3] |= gzipFlagHeaderCRC
	crc := crc32.ChecksumIEEE(h)
	h = append(h, byte(crc), byte(crc>>8))
	return append(h, member[10:]...)
}

func TestGzipReader(t *testing.T) {
	reads := readsText(3<<20, 30)
	records := alignmentRecords(200000, 31)
	named := gzip.Header{Name: "reads.fq", Comment: "simulated", Extra: []byte("ab\x04\x00data")}
	tests := []struct {
		name string
		in   []byte
		want []byte
	}{
		{"empty member", gzipMember(t, nil, 6, gzip.Header{}), nil},
		{"reads level 1", gzipMember(t, reads, 1, gzip.Header{}), reads},
		{"reads level 6", gzipMember(t, reads, 6, gzip.Header{}), reads},
		{"reads huffman only", gzipMember(t, reads, gzip.HuffmanOnly, gzip.Header{}), reads},
		{"stored", gzipMember(t, records, 0, gzip.Header{}), records},
		{"runs", gzipMember(t, runs(1<<20), 9, gzip.Header{}), runs(1 << 20)},
		{"header fields", gzipMember(t, records, 6, named), records},
		{"header CRC", withHeaderCRC(gzipMember(t, records[:1000], 6, gzip.Header{})), records[:1000]},
		{"reserved flag", append([]byte{0x1f, 0x8b, 8, 0x80}, gzipMember(t, records[:1000], 6, gzip.Header{})[4:]...), records[:1000]},
		{"members", append(append(gzipMember(t, reads[:100000], 6, named), gzipMember(t, nil, 1, gzip.Header{})...),
			gzipMember(t, reads[100000:], 1, gzip.Header{})...), reads},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, src := range []struct {
				name string
				r    io.Reader
			}{
				{"whole", bytes.NewReader(tt.in)},
				{"one byte at a time", iotest.OneByteReader(bytes.NewReader(tt.in))},
				{"halves", iotest.HalfReader(bytes.NewReader(tt.in))},
			} {
				if len(tt.in) > 1<<20 && src.name == "one byte at a time" {
					continue
				}
				got, err := io.ReadAll(iotest.HalfReader(NewGzipReader(src.r)))
				if err != nil {
					t.Fatalf("%s: %v", src.name, err)
				}
				if !bytes.Equal(got, tt.want) {
					t.Fatalf("%s: %d bytes, want %d, differing", src.name, len(got), len(tt.want))
				}
			}
		})
	}
}

func TestGzipReaderDefects(t *testing.T) {
	data := readsText(100000, 32)
	member := gzipMember(t, data, 6, gzip.Header{Name: "x"})
	badCRC := bytes.Clone(member)
	badCRC[len(badCRC)-6] ^= 1
	badSize := bytes.Clone(member)
	badSize[len(badSize)-2] ^= 1
	badHeaderCRC := withHeaderCRC(member)
	badHeaderCRC[len(member[:10])+len("x\x00")+1] ^= 1
	for _, tt := range []struct {
		name string
		in   []byte
		want string
	}{
		{"CRC32", badCRC, "inflate: CRC32 of gzip member 1's data"},
		{"size", badSize, "inflate: gzip member 1 inflates to"},
		{"header CRC", badHeaderCRC, "inflate: invalid gzip header: header CRC16"},
		{"garbage after a member", append(bytes.Clone(member), "garbage"...), "inflate: invalid gzip header: starts with"},
		{"method", append([]byte{0x1f, 0x8b, 7}, member[3:]...), "inflate: invalid gzip header: compression method 7"},
		{"empty", nil, io.ErrUnexpectedEOF.Error()},
	} {
		_, err := io.ReadAll(NewGzipReader(bytes.NewReader(tt.in)))
		if err == nil || !bytes.HasPrefix([]byte(err.Error()), []byte(tt.want)) {
			t.Errorf("%s: err = %v, want one starting %q", tt.name, err, tt.want)
		}
	}
	// Cut anywhere, a member reads as truncated, after a prefix of its data.
	small := append(gzipMember(t, data[:3000], 6, gzip.Header{Name: "n", Comment: "c", Extra: []byte{1, 2, 3, 4}}),
		gzipMember(t, data[3000:5000], 0, gzip.Header{})...)
	for cut := range len(small) {
		got, err := io.ReadAll(NewGzipReader(bytes.NewReader(small[:cut])))
		if !errors.Is(err, io.ErrUnexpectedEOF) && !(cut == len(small)-len(gzipMember(t, data[3000:5000], 0, gzip.Header{})) && err == nil) {
			t.Errorf("cut at %d of %d: err = %v, want io.ErrUnexpectedEOF", cut, len(small), err)
		}
		if !bytes.HasPrefix(data, got) {
			t.Errorf("cut at %d: the data read is wrong", cut)
		}
	}
}

func TestGzipReaderSourceError(t *testing.T) {
	member := gzipMember(t, readsText(200000, 33), 6, gzip.Header{})
	failure := errors.New("connection reset")
	r := io.MultiReader(bytes.NewReader(member[:len(member)/2]), iotest.ErrReader(failure))
	if _, err := io.ReadAll(NewGzipReader(r)); err != failure {
		t.Fatalf("err = %v, want the source's error", err)
	}
}

func TestGzipReaderReset(t *testing.T) {
	// One reader serves input after input, whatever state the last left it
	// in: read to the end, abandoned half way, or failed.
	long := readsText(300<<10, 7)
	short := []byte("@r\nACGT\n+\nIIII\n")
	truncated := gzipMember(t, long, 6, gzip.Header{})
	truncated = truncated[:len(truncated)/2]
	steps := []struct {
		name  string
		input []byte
		want  []byte // nil: the input must fail
		whole bool   // read to the end, or only the first bytes
	}{
		{"long", gzipMember(t, long, 1, gzip.Header{}), long, true},
		{"short after long", gzipMember(t, short, 9, gzip.Header{Name: "a.fq"}), short, true},
		{"abandoned half way", gzipMember(t, long, 6, gzip.Header{}), long, false},
		{"after an abandoned one", gzipMember(t, short, 6, gzip.Header{}), short, true},
		{"truncated", truncated, nil, true},
		{"after a failure", append(gzipMember(t, short, 1, gzip.Header{}), gzipMember(t, long, 6, gzip.Header{})...), append(bytes.Clone(short), long...), true},
	}
	g := NewGzipReader(nil)
	for _, step := range steps {
		g.Reset(bytes.NewReader(step.input))
		if !step.whole {
			buf := make([]byte, 1000)
			if _, err := io.ReadFull(g, buf); err != nil || !bytes.Equal(buf, step.want[:1000]) {
				t.Fatalf("%s: first 1000 bytes wrong (err %v)", step.name, err)
			}
			continue
		}
		got, err := io.ReadAll(g)
		if step.want == nil {
			if err == nil {
				t.Fatalf("%s: read cleanly, want an error", step.name)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, step.want) {
			t.Fatalf("%s: got %d bytes (err %v), want %d", step.name, len(got), err, len(step.want))
		}
	}
}

func FuzzGzipReader(f *testing.F) {
	f.Add(gzipMember(f, readsText(2000, 34), 6, gzip.Header{Name: "n"}))
	f.Add(append(gzipMember(f, []byte("abc"), 1, gzip.Header{}), gzipMember(f, []byte("def"), 0, gzip.Header{})...))
	f.Add(withHeaderCRC(gzipMember(f, runs(500), 9, gzip.Header{Extra: []byte{1, 2, 3, 4}})))
	f.Fuzz(func(t *testing.T, in []byte) {
		heapcap.Check(t, heapcap.Ceiling, func() {
			const limit = 4 << 20
			want, wantErr := io.ReadAll(io.LimitReader(mustGzipReader(bytes.NewReader(in)), limit))
			got, err := io.ReadAll(io.LimitReader(NewGzipReader(bytes.NewReader(in)), limit))
			if (err == nil) != (wantErr == nil) && len(want) < limit {
				t.Fatalf("compress/gzip: %v; GzipReader: %v", wantErr, err)
			}
			// Where both fail, each may have decoded further than the other.
			n := min(len(got), len(want))
			if !bytes.Equal(got[:n], want[:n]) || (err == nil && wantErr == nil && len(got) != len(want)) {
				t.Fatalf("outputs differ: %d bytes vs compress/gzip's %d", len(got), len(want))
			}
		})
	})
}

// mustGzipReader is compress/gzip's reader, or one that fails at once. An
// input without a single member fails, as GzipReader's does.
func mustGzipReader(r io.Reader) io.Reader {
	zr, err := gzip.NewReader(r)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return iotest.ErrReader(err)
	}
	return zr
}

// BenchmarkGzipReader compares the readers on a FASTQ-like file compressed
// as gzip -1 and -6 would.
func BenchmarkGzipReader(b *testing.B) {
	data := readsText(16<<20, 35)
	for _, level := range []int{1, 6} {
		in := gzipMember(b, data, level, gzip.Header{})
		for _, impl := range []struct {
			name string
			open func(io.Reader) io.Reader
		}{
			{"inflate", func(r io.Reader) io.Reader { return NewGzipReader(r) }},
			{"klauspost", func(r io.Reader) io.Reader {
				zr, err := kgzip.NewReader(r)
				if err != nil {
					b.Fatal(err)
				}
				return zr
			}},
		} {
			b.Run(fmt.Sprintf("level=%d/impl=%s", level, impl.name), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				buf := make([]byte, 256<<10)
				for b.Loop() {
					r := impl.open(bytes.NewReader(in))
					if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{r}, buf); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
