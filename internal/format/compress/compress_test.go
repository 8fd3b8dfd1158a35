package compress

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/format/bgzf"
	"github.com/seqstore/seqstore/internal/testutil"
	"github.com/seqstore/seqstore/internal/testutil/heapcap"
	"github.com/seqstore/seqstore/internal/testutil/leak"
)

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func bgz(b []byte) []byte {
	var buf bytes.Buffer
	w := bgzf.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// reads makes n bytes of FASTQ-like text.
func reads(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "@r%d\n", i)
		for range 150 {
			b.WriteByte("ACGT"[rng.IntN(4)])
		}
		b.WriteString("\n+\n")
		for range 150 {
			b.WriteByte(byte('#' + rng.IntN(38)))
		}
		b.WriteByte('\n')
	}
	return b.Bytes()[:n]
}

// tool runs a command with stdin and returns its output.
func tool(t *testing.T, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	testutil.RequireTool(t, name)
	cmd := exec.Command(name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return out
}

func readAll(t *testing.T, in []byte) ([]byte, Kind, error) {
	t.Helper()
	rc, kind, err := Open(bytes.NewReader(in))
	if err != nil {
		return nil, kind, err
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	return got, kind, err
}

func TestOpen(t *testing.T) {
	text := []byte("@r\nACGT\n+\n!!!!\n")
	big := reads(3 << 20)
	half := len(big) / 2
	tests := []struct {
		name string
		in   []byte
		kind Kind
		want []byte
	}{
		{"plain text", text, Plain, text},
		{"an empty file", nil, Plain, nil},
		{"one byte", []byte("@"), Plain, []byte("@")},
		{"the gzip magic alone is plain", []byte{0x1f, 0x8b}, Plain, []byte{0x1f, 0x8b}},
		{"gzip", gz(text), Gzip, text},
		{"gzip of nothing", gz(nil), Gzip, nil},
		{"two gzip members", append(gz(text[:5]), gz(text[5:])...), Gzip, text},
		{"an empty member between two", append(append(gz(text[:5]), gz(nil)...), gz(text[5:])...), Gzip, text},
		{"large gzip", gz(big), Gzip, big},
		{"large multi-member gzip", append(gz(big[:half]), gz(big[half:])...), Gzip, big},
		{"BGZF", bgz(text), BGZF, text},
		{"large BGZF", bgz(big), BGZF, big},
		{"BGZF without the EOF marker", bytes.TrimSuffix(bgz(text), bgzf.EOFMarker), BGZF, text},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, kind, err := readAll(t, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if kind != tt.kind || !bytes.Equal(got, tt.want) {
				t.Fatalf("got kind %s and %d bytes, want %s and %d", kind, len(got), tt.want, len(tt.want))
			}
		})
	}
}

// TestAgainstTools reads what gzip, bgzip and `cat a.gz b.gz` make.
func TestAgainstTools(t *testing.T) {
	data := reads(1 << 20)
	half := bytes.Index(data[len(data)/2:], []byte("\n@")) + len(data)/2 + 1
	tests := []struct {
		name string
		in   func() []byte
		kind Kind
	}{
		{"gzip -c", func() []byte { return tool(t, data, "gzip", "-c") }, Gzip},
		{"gzip -1 of two halves, concatenated", func() []byte {
			return append(tool(t, data[:half], "gzip", "-1", "-c"), tool(t, data[half:], "gzip", "-9", "-c")...)
		}, Gzip},
		{"bgzip -c", func() []byte { return tool(t, data, "bgzip", "-c") }, BGZF},
		{"bgzip -@2 -l 9", func() []byte { return tool(t, data, "bgzip", "-@2", "-l", "9", "-c") }, BGZF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, kind, err := readAll(t, tt.in())
			if err != nil {
				t.Fatal(err)
			}
			if kind != tt.kind || !bytes.Equal(got, data) {
				t.Fatalf("got kind %s, %d bytes; want %s, %d bytes", kind, len(got), tt.kind, len(data))
			}
		})
	}
}

func TestDefects(t *testing.T) {
	data := reads(1 << 20)
	z := gz(data)
	corruptCRC := append([]byte(nil), z...)
	corruptCRC[len(corruptCRC)-6] ^= 0xff
	tests := []struct {
		name    string
		in      []byte
		wantErr string
	}{
		{"gzip truncated in the middle", z[:len(z)/2],
			fmt.Sprintf("gzip data truncated: the file ends after %d bytes in the middle of a gzip member", len(z)/2)},
		{"gzip truncated in the footer", z[:len(z)-3],
			fmt.Sprintf("gzip data truncated: the file ends after %d bytes", len(z)-3)},
		{"gzip truncated in the header", z[:5],
			"gzip data truncated: the file ends after 5 bytes"},
		{"second member truncated", append(gz(data[:10]), gz(data[10:])[:100]...),
			"gzip data truncated"},
		{"gzip CRC wrong", corruptCRC, "gzip data corrupt near byte offset"},
		{"garbage after a member", append(gz(data[:10]), "garbage that is not gzip"...), "gzip data corrupt near byte offset"},
		{"BGZF truncated", bgz(data)[:5000], "BGZF block at offset 0: truncated"},
		{"bzip2", []byte("BZh91AY&SY"), "bzip2 compression is not supported"},
		{"xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0, 0, 4}, "xz compression is not supported"},
		{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0}, "zstd compression is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := readAll(t, tt.in)
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("got error %v, want one starting %q", err, tt.wantErr)
			}
			if !bytes.HasPrefix(data, got) {
				t.Errorf("the data read before the error is wrong")
			}
		})
	}
}

func TestTruncatedGzipIsUnexpectedEOF(t *testing.T) {
	z := gz(reads(100000))
	_, _, err := readAll(t, z[:len(z)-1])
	var ce *Error
	if !errors.As(err, &ce) || !errors.Is(err, io.ErrUnexpectedEOF) || ce.Offset != int64(len(z)-1) {
		t.Fatalf("got %v, want an *Error wrapping io.ErrUnexpectedEOF at offset %d", err, len(z)-1)
	}
}

func TestCloseEarly(t *testing.T) {
	for _, in := range [][]byte{gz(reads(4 << 20)), bgz(reads(4 << 20))} {
		rc, _, err := Open(bytes.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 100)
		if _, err := io.ReadFull(rc, buf); err != nil {
			t.Fatal(err)
		}
		rc.Close()
		if _, err := rc.Read(buf); err == nil {
			t.Errorf("Read after Close succeeded")
		}
	}
}

func FuzzOpen(f *testing.F) {
	f.Add(gz([]byte("@r\nA\n+\n!\n")))
	f.Add(append(gz([]byte("@r\n")), gz([]byte("A\n+\n!\n"))...))
	f.Add(bgz([]byte("@r\nA\n+\n!\n")))
	f.Add([]byte("plain"))
	f.Add([]byte{0x1f, 0x8b, 8, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		heapcap.Check(t, heapcap.Ceiling, func() {
			rc, _, err := Open(bytes.NewReader(b))
			if err != nil {
				return
			}
			defer rc.Close()
			n, _ := io.Copy(io.Discard, rc)
			if n > int64(len(b))*1100 {
				t.Fatalf("%d bytes from %d", n, len(b))
			}
		})
	})
}

func BenchmarkOpenGzip(b *testing.B) {
	data := reads(16 << 20)
	z := gz(data)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rc, _, err := Open(bytes.NewReader(z))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			b.Fatal(err)
		}
		rc.Close()
	}
}

// failingReader yields data and then fails, as a network source can.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// A source that fails is not a corrupt file: its error comes back as it is.
func TestSourceErrorPassesThrough(t *testing.T) {
	data := reads(1 << 20)
	errSource := errors.New("connection reset")
	for _, in := range [][]byte{gz(data), bgz(data)} {
		rc, kind, err := Open(&failingReader{data: in[:len(in)/2], err: errSource})
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(rc)
		rc.Close()
		var ce *Error
		var be *bgzf.BlockError
		if !errors.Is(err, errSource) || errors.As(err, &ce) || errors.As(err, &be) {
			t.Errorf("%s: got %v (%T), want the source's error as it is", kind, err, err)
		}
	}
}

// TestCloseStopsReading closes gzip and BGZF readers early in long
// streams: once Close returns, no goroutine of theirs runs and none reads
// the source.
func TestCloseStopsReading(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	plain := make([]byte, 1<<20)
	for i := range plain {
		plain[i] = "ACGT"[rng.IntN(4)]
	}
	var gz, bg bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	bw := bgzf.NewWriter(&bg)
	bw.Write(plain)
	bw.Close()
	for name, data := range map[string][]byte{"gzip": gz.Bytes(), "BGZF": bg.Bytes()} {
		t.Run(name, func(t *testing.T) {
			done := leak.Check(t)
			var g leak.Guard
			r, _, err := Open(g.Reader(leak.Slow(bytes.NewReader(data))))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(r, make([]byte, 1000)); err != nil {
				t.Fatal(err)
			}
			r.Close()
			g.Seal()
			done()
			g.Verify(t)
		})
	}
}
