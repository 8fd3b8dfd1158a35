package reference

import (
	"errors"
	"io"

	"github.com/seqstore/seqstore/internal/format/panics"
)

// behindChunk is how many bytes a behindWriter hands over at once, and
// behindBuffers how many such chunks it has in flight at most.
const (
	behindChunk   = 256 << 10
	behindBuffers = 8
)

// behindWriter writes what it is given to w on a goroutine of its own, a
// few chunks behind the caller. An import digests its source file whole
// (the reference's md5) and stores it while fasta.Scan checks and digests
// the residues: on the scanning goroutine the file's digest and the write
// would add to the scan's time; behind it they run on another core.
// Memory is bounded by behindBuffers chunks, whatever the file's size.
type behindWriter struct {
	w     io.Writer
	buf   []byte
	full  chan []byte
	empty chan []byte
	done  chan struct{}
	// drained is closed when the goroutine stops writing; err, w's
	// first error (or a panic in it), may be read after that.
	drained chan struct{}
	err     error
	closed  bool
}

func newBehindWriter(w io.Writer) *behindWriter {
	b := &behindWriter{w: w, full: make(chan []byte, behindBuffers), empty: make(chan []byte, behindBuffers),
		done: make(chan struct{}), drained: make(chan struct{})}
	for range behindBuffers - 1 {
		b.empty <- make([]byte, 0, behindChunk)
	}
	b.buf = make([]byte, 0, behindChunk)
	go b.run()
	return b
}

func (b *behindWriter) run() {
	defer close(b.done)
	b.err = b.drain()
	close(b.drained)
	// After an error the chunks still go back, unwritten, so that
	// Write never waits for one.
	for chunk := range b.full {
		b.empty <- chunk[:0]
	}
}

func (b *behindWriter) drain() (err error) {
	defer panics.Recover(&err)
	for chunk := range b.full {
		if _, err := b.w.Write(chunk); err != nil {
			b.empty <- chunk[:0]
			return err
		}
		b.empty <- chunk[:0]
	}
	return nil
}

// Write copies p into the chunk being filled, handing full chunks over.
// It returns w's error once the goroutine has met one.
func (b *behindWriter) Write(p []byte) (int, error) {
	if b.closed {
		return 0, errors.New("reference: write after close")
	}
	n := len(p)
	for len(p) > 0 {
		k := copy(b.buf[len(b.buf):cap(b.buf)], p)
		b.buf, p = b.buf[:len(b.buf)+k], p[k:]
		if len(b.buf) == cap(b.buf) {
			b.full <- b.buf
			b.buf = <-b.empty
			if err := b.failed(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// failed returns the goroutine's error if it has stopped with one.
func (b *behindWriter) failed() error {
	select {
	case <-b.drained:
		return b.err
	default:
		return nil
	}
}

// Close hands over what is left, waits until everything is written, and
// returns w's first error. Calls after the first return that again.
func (b *behindWriter) Close() error {
	if !b.closed {
		b.closed = true
		if len(b.buf) > 0 {
			b.full <- b.buf
		}
		b.buf = nil
		close(b.full)
		<-b.done
	}
	return b.err
}
