package blobtest

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/seqstore/seqstore/internal/blob"
)

// Bench measures a store's throughput: streaming writes of whole objects
// through io.Copy (which uses the writer's ReadFrom), and range reads of a
// large object in pieces the size of a HealthOmics read-set part and smaller.
func Bench(b *testing.B, s blob.Store) {
	const objectSize = 32 << 20
	b.Run("write 32MiB objects", func(b *testing.B) {
		chunk := Content(90, 1<<20)
		b.SetBytes(objectSize)
		for i := 0; b.Loop(); i++ {
			w, err := s.NewWriter(context.Background(), fmt.Sprintf("bench/write-%d", i%4))
			if err != nil {
				b.Fatal(err)
			}
			src := &repeatReader{chunk: chunk, left: objectSize}
			if _, err := io.Copy(w, &chunkReader{src, 256 << 10}); err != nil {
				w.Abort()
				b.Fatal(err)
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
	const readObjectSize = 64 << 20
	Put(b, s, "bench/read", Content(91, readObjectSize))
	for _, rangeSize := range []int64{64 << 10, 1 << 20, 16 << 20} {
		b.Run(fmt.Sprintf("read %dKiB ranges", rangeSize>>10), func(b *testing.B) {
			b.SetBytes(rangeSize)
			var sink countingWriter
			for i := 0; b.Loop(); i++ {
				// Step through the object by an odd stride so that ranges
				// start at unaligned offsets.
				off := (int64(i) * (rangeSize + 4099)) % (readObjectSize - rangeSize)
				r, err := s.NewRangeReader(context.Background(), "bench/read", off, rangeSize)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(&sink, r)
				r.Close()
				if err != nil || n != rangeSize {
					b.Fatalf("read %d bytes, want %d: %v", n, rangeSize, err)
				}
			}
		})
	}
}

// repeatReader yields left bytes by repeating chunk.
type repeatReader struct {
	chunk []byte
	pos   int
	left  int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n := 0
	for n < len(p) {
		m := copy(p[n:], r.chunk[r.pos:])
		n += m
		r.pos = (r.pos + m) % len(r.chunk)
	}
	r.left -= int64(n)
	return n, nil
}

// countingWriter is a sink without ReadFrom, so io.Copy goes through the
// reader's own WriteTo or Read: the path a hash or a parser would take.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
