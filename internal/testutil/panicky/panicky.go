// Package panicky gives tests a reader and a writer that panic part-way,
// standing in for a faulty source or destination, so that tests can check
// that a panic on a goroutine a reader or writer starts comes back as an
// error instead of ending the process.
package panicky

import (
	"errors"
	"io"

	"github.com/seqstore/seqstore/internal/format/panics"
)

// Value is what the reader and writer panic with, for tests to look for in
// the error.
const Value = "panicky: deliberate panic"

// Caught reports whether err is a panic with Value caught as a
// *panics.Error carrying its stack: what a panic of the reader or writer
// must come back as.
func Caught(err error) bool {
	var pe *panics.Error
	return errors.As(err, &pe) && pe.Value == Value && len(pe.Stack) > 0
}

// Reader returns r, panicking with Value on the first Read once after bytes
// have been read from it (at the first Read if after is 0).
func Reader(r io.Reader, after int64) io.Reader { return &reader{r: r, left: after} }

type reader struct {
	r    io.Reader
	left int64
}

func (r *reader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		panic(Value)
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.r.Read(p)
	r.left -= int64(n)
	return n, err
}

// Writer returns w, panicking with Value on the first Write once after
// bytes have been written to it.
func Writer(w io.Writer, after int64) io.Writer { return &writer{w: w, left: after} }

type writer struct {
	w    io.Writer
	left int64
}

func (w *writer) Write(p []byte) (int, error) {
	if w.left <= 0 {
		panic(Value)
	}
	n, err := w.w.Write(p)
	w.left -= int64(n)
	return n, err
}
