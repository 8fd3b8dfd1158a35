package bgzf

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os/exec"
	"testing"

	"github.com/seqstore/seqstore/internal/testutil"
)

func randomText(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = "ACGT\n"[rng.IntN(5)]
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, BlockDataSize - 1, BlockDataSize, BlockDataSize + 1, 3 << 20} {
		data := randomText(n)
		var buf bytes.Buffer
		w, err := NewWriterLevel(&buf, 1)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(buf.Bytes(), EOFMarker) {
			t.Fatalf("%d bytes: no EOF marker", n)
		}
		r := NewReader(bytes.NewReader(buf.Bytes()))
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: read back %d bytes, %v", n, len(got), err)
		}
		if !r.SawEOFMarker() {
			t.Fatalf("%d bytes: EOF marker not seen", n)
		}
	}
}

// What bgzip writes, this reader reads; what this writer writes, bgzip
// decompresses.
func TestAgainstBgzip(t *testing.T) {
	testutil.RequireTool(t, "bgzip")
	data := randomText(1 << 20)
	cmd := exec.Command("bgzip", "-c")
	cmd.Stdin = bytes.NewReader(data)
	compressed, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(NewReader(bytes.NewReader(compressed)))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("reading bgzip output: %v", err)
	}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Write(data)
	w.Close()
	cmd = exec.Command("bgzip", "-d", "-c")
	cmd.Stdin = &buf
	back, err := cmd.Output()
	if err != nil || !bytes.Equal(back, data) {
		t.Fatalf("bgzip -d of our output: %v", err)
	}
}

func TestCorruptBlockNamesItsOffset(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Write(randomText(200_000))
	w.Close()
	b := buf.Bytes()
	b[len(b)/2] ^= 0xff
	_, err := io.ReadAll(NewReader(bytes.NewReader(b)))
	var be *BlockError
	if !errors.As(err, &be) {
		t.Fatalf("got %v, want a *BlockError", err)
	}
}

func FuzzReader(f *testing.F) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Write([]byte("hello, BGZF"))
	w.Close()
	f.Add(buf.Bytes())
	f.Add(EOFMarker)
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(bytes.NewReader(b))
		io.Copy(io.Discard, r)
		r.Close()
	})
}
