package bgzf

import (
	"bytes"
	"io"
	"testing"

	"github.com/seqstore/seqstore/internal/testutil/leak"
	"github.com/seqstore/seqstore/internal/testutil/panicky"
)

// wantPanicError fails t unless err is the panic of a panicky reader or
// writer, carrying its stack.
func wantPanicError(t *testing.T, err error) {
	t.Helper()
	if !panicky.Caught(err) {
		t.Fatalf("got error %v, want the panic as a *panics.Error with its stack", err)
	}
}

// A source that panics when the read-ahead goroutine reads it fails the
// Reader's Read, after the data before it, instead of the process.
func TestSourcePanicIsAReadError(t *testing.T) {
	data := fastqLike(1<<20, 7)
	compressed, blocks := compressBGZF(t, data, WriterOptions{})
	for _, c := range []struct {
		name    string
		after   int64 // compressed bytes read before the panic
		workers int
		wantMin int64 // uncompressed bytes that must come first
	}{
		{"first read", 0, 1, 0},
		{"mid-stream, one worker", int64(blocks[3].Offset), 1, blocks[3].DataOffset},
		{"mid-stream, four workers", int64(blocks[5].Offset) + 100, 4, blocks[5].DataOffset},
	} {
		t.Run(c.name, func(t *testing.T) {
			done := leak.Check(t)
			r := NewReaderWorkers(panicky.Reader(bytes.NewReader(compressed), c.after), c.workers)
			got, err := io.ReadAll(r)
			wantPanicError(t, err)
			if int64(len(got)) < c.wantMin || !bytes.Equal(got, data[:len(got)]) {
				t.Errorf("read %d bytes before the error, want the first %d intact", len(got), c.wantMin)
			}
			if _, err := r.Read(make([]byte, 10)); err == nil {
				t.Error("a Read after the panic succeeded")
			}
			r.Close()
			done()
		})
	}
}

// A destination that panics when the output goroutine writes to it, or a
// BlockWritten callback that panics, fails the Writer's Write or Close
// instead of the process, and the Writer does not hang.
func TestDestinationPanicIsAWriteError(t *testing.T) {
	data := fastqLike(2<<20, 8)
	for _, c := range []struct {
		name string
		dst  func() io.Writer
		opts WriterOptions
	}{
		{"first block", func() io.Writer { return panicky.Writer(io.Discard, 0) }, WriterOptions{Workers: 1}},
		{"mid-stream", func() io.Writer { return panicky.Writer(io.Discard, 200<<10) }, WriterOptions{Workers: 4}},
		{"BlockWritten", func() io.Writer { return io.Discard }, WriterOptions{Workers: 2, BlockWritten: func(b BlockInfo) {
			if b.Offset > 100<<10 {
				panic(panicky.Value)
			}
		}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			done := leak.Check(t)
			w, err := NewWriterOptions(c.dst(), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			var werr error
			for p := data; len(p) > 0 && werr == nil; {
				n := min(len(p), 10000)
				_, werr = w.Write(p[:n])
				p = p[n:]
			}
			ferr := w.Flush()
			cerr := w.Close()
			wantPanicError(t, cerr)
			wantPanicError(t, ferr)
			if werr != nil {
				wantPanicError(t, werr)
			}
			done()
		})
	}
}
