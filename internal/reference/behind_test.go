package reference

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/testutil/leak"
)

func TestBehindWriterWritesEverythingInOrder(t *testing.T) {
	tests := []struct {
		name   string
		size   int
		pieces []int // the sizes of the caller's writes, repeated
	}{
		{"nothing", 0, []int{1}},
		{"under a chunk", 1000, []int{7}},
		{"exactly one chunk", behindChunk, []int{behindChunk}},
		{"many chunks in small writes", 5*behindChunk + 17, []int{1, 4096, 333}},
		{"writes larger than a chunk", 9*behindChunk + 5, []int{3*behindChunk + 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer leak.Check(t)()
			want := make([]byte, tt.size)
			rng := rand.New(rand.NewPCG(1, uint64(tt.size)))
			for i := range want {
				want[i] = byte(rng.Uint32())
			}
			var got bytes.Buffer
			b := newBehindWriter(&got)
			for p, i := want, 0; len(p) > 0; i++ {
				n := min(tt.pieces[i%len(tt.pieces)], len(p))
				if k, err := b.Write(p[:n]); k != n || err != nil {
					t.Fatalf("Write: %d, %v", k, err)
				}
				p = p[n:]
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("wrote %d bytes that differ from the %d given", got.Len(), len(want))
			}
			if _, err := b.Write([]byte("late")); err == nil {
				t.Error("a write after Close succeeded")
			}
		})
	}
}

// failingWriter fails, or panics, once it has taken after bytes.
type failingWriter struct {
	after int
	panic bool
}

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.after {
		if f.panic {
			panic("disk on fire")
		}
		return 0, errors.New("disk full")
	}
	f.after -= len(p)
	return len(p), nil
}

func TestBehindWriterReportsTheWritersFailure(t *testing.T) {
	for _, tt := range []struct {
		name  string
		w     *failingWriter
		total int // bytes written
		wants string
	}{
		{"an error", &failingWriter{after: 2 * behindChunk}, 64 * behindChunk, "disk full"},
		{"a panic", &failingWriter{after: behindChunk, panic: true}, 64 * behindChunk, "disk on fire"},
		{"an error in the last chunk, which Close hands over", &failingWriter{after: 0}, 4096, "disk full"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer leak.Check(t)()
			b := newBehindWriter(tt.w)
			chunk := make([]byte, 4096)
			var err error
			// Far more than the writer takes: once it fails, Write
			// says so, at the latest a few chunks later.
			for range tt.total / len(chunk) {
				if _, err = b.Write(chunk); err != nil {
					break
				}
			}
			cerr := b.Close()
			if cerr == nil || !strings.Contains(cerr.Error(), tt.wants) {
				t.Fatalf("Close: %v, want %q", cerr, tt.wants)
			}
			if err == nil && tt.total > 8*behindChunk {
				t.Errorf("%d bytes written without an error from a writer that failed", tt.total)
			}
		})
	}
}
