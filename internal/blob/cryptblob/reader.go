package cryptblob

import (
	"crypto/cipher"
	"fmt"
	"io"
)

// chunkSource opens the chunks of one range in order.
type chunkSource struct {
	key      string
	in       io.Reader
	aead     cipher.AEAD
	index    int64 // next chunk to open
	final    int64 // index of the object's final chunk
	finalLen int
	skip     int   // bytes of the next chunk before the range
	left     int64 // bytes of the range not yet opened
	nonce    [12]byte
}

// open reads the next chunk into buf (sealedSize bytes) and opens it in
// place, returning the part of its plaintext inside the range.
func (c *chunkSource) open(buf []byte) ([]byte, error) {
	n, aad := sealedSize, aadMiddle
	if c.index == c.final {
		n, aad = c.finalLen+tagSize, aadFinal
	}
	if _, err := io.ReadFull(c.in, buf[:n]); err != nil {
		return nil, truncated(c.key, err)
	}
	p, err := c.aead.Open(buf[:0], chunkNonce(&c.nonce, c.index), buf[:n], aad)
	if err != nil {
		return nil, fmt.Errorf("%w: object %s, chunk %d (bytes %d to %d) was changed at rest", ErrIntegrity, c.key, c.index, c.index*ChunkSize, c.index*ChunkSize+int64(n-tagSize))
	}
	p = p[c.skip:]
	c.skip = 0
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	c.left -= int64(len(p))
	c.index++
	return p, nil
}

// aheadChunks is how many chunks a reader opens ahead of the one being
// read, on another goroutine, once a range is long enough to gain from it:
// decrypting the next chunk while the last one is written to a socket keeps
// a download from waiting on both in turn.
const aheadChunks = 2

// minChunksAhead is the shortest range, in chunks after the first, that is
// opened ahead.
const minChunksAhead = 4

// opened is a chunk opened ahead: its buffer and plaintext, or an error.
type opened struct {
	buf, plain []byte
	err        error
}

// reader hands out the plaintext of a range. It opens chunks itself, or
// takes them from a goroutine that opens them ahead.
type reader struct {
	body  io.ReadCloser
	src   *chunkSource // nil once handed to the goroutine
	buf   []byte       // the buffer plain lies in
	plain []byte       // opened bytes not yet read
	err   error

	ahead chan opened   // nil: no goroutine
	free  chan []byte   // buffers back to the goroutine
	stop  chan struct{} // closed by Close
	done  chan struct{} // closed when the goroutine has returned
}

func newReader(body io.ReadCloser, src *chunkSource, buf, plain []byte) *reader {
	r := &reader{body: body, src: src, buf: buf, plain: plain}
	if src.left >= minChunksAhead*ChunkSize {
		r.ahead = make(chan opened, aheadChunks)
		r.free = make(chan []byte, aheadChunks+1)
		r.stop = make(chan struct{})
		r.done = make(chan struct{})
		for range aheadChunks {
			r.free <- make([]byte, sealedSize)
		}
		go r.openAhead(src)
		r.src = nil
	}
	return r
}

// openAhead opens the rest of the range into free buffers until it is
// done, fails, or the reader is closed.
func (r *reader) openAhead(src *chunkSource) {
	defer close(r.done)
	defer close(r.ahead)
	for src.left > 0 {
		var buf []byte
		select {
		case buf = <-r.free:
		case <-r.stop:
			return
		}
		o := opened{buf: buf}
		o.plain, o.err = openRecovered(src, buf)
		select {
		case r.ahead <- o:
		case <-r.stop:
			return
		}
		if o.err != nil {
			return
		}
	}
}

// openRecovered is src.open, with a panic turned into an error: on its own
// goroutine, a panic would otherwise end the process rather than one read.
func openRecovered(src *chunkSource, buf []byte) (p []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("cryptblob: opening object %s panicked: %v", src.key, v)
		}
	}()
	return src.open(buf)
}

// next makes the next chunk's plaintext current; io.EOF after the last.
func (r *reader) next() error {
	if r.err != nil {
		return r.err
	}
	if r.ahead == nil {
		if r.src.left == 0 {
			return io.EOF
		}
		r.plain, r.err = r.src.open(r.buf)
		return r.err
	}
	if r.buf != nil {
		r.free <- r.buf // never blocks: there is a slot for every buffer
		r.buf = nil
	}
	o, ok := <-r.ahead
	if !ok {
		r.plain = nil
		return io.EOF
	}
	r.buf, r.plain, r.err = o.buf, o.plain, o.err
	return r.err
}

func (r *reader) Read(p []byte) (int, error) {
	for len(r.plain) == 0 {
		if err := r.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.plain)
	r.plain = r.plain[n:]
	return n, nil
}

// WriteTo hands each opened chunk to w as it is, saving io.Copy a copy
// through its own buffer.
func (r *reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if len(r.plain) > 0 {
			n, err := w.Write(r.plain)
			total += int64(n)
			r.plain = r.plain[n:]
			if err != nil {
				return total, err
			}
			continue
		}
		if err := r.next(); err == io.EOF {
			return total, nil
		} else if err != nil {
			return total, err
		}
	}
}

// Close stops the goroutine opening ahead, if any, before closing the
// body it reads.
func (r *reader) Close() error {
	if r.stop != nil {
		select {
		case <-r.stop:
		default:
			close(r.stop)
		}
		<-r.done
	}
	return r.body.Close()
}
