package cryptblob

import (
	"crypto/cipher"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/seqstore/seqstore/internal/cpus"
)

// chunkSource reads the sealed chunks of one range in order.
type chunkSource struct {
	key      string
	in       io.Reader
	aead     cipher.AEAD
	index    int64 // next chunk to read
	final    int64 // index of the object's final chunk
	finalLen int
	skip     int   // bytes of the next chunk before the range
	left     int64 // bytes of the range not yet read
}

// sealed is one chunk as read, and the part of its plaintext in the range.
type sealed struct {
	buf         []byte // sealedSize bytes; the chunk's opened bytes end up here
	n           int    // sealed bytes in buf
	index       int64
	final       bool
	from, until int // the range's share of the plaintext
}

// read reads the next chunk into buf (sealedSize bytes).
func (c *chunkSource) read(buf []byte) (sealed, error) {
	s := sealed{buf: buf, n: sealedSize, index: c.index}
	if c.index == c.final {
		s.n, s.final = c.finalLen+tagSize, true
	}
	if _, err := io.ReadFull(c.in, buf[:s.n]); err != nil {
		return s, truncated(c.key, err)
	}
	s.from = c.skip
	s.until = s.n - tagSize
	if int64(s.until-s.from) > c.left {
		s.until = s.from + int(c.left)
	}
	c.skip = 0
	c.left -= int64(s.until - s.from)
	c.index++
	return s, nil
}

// open opens a chunk in place, returning the part of its plaintext in the
// range. Chunks open independently, so any goroutine may open any chunk.
func (c *chunkSource) open(s sealed) ([]byte, error) {
	aad := aadMiddle
	if s.final {
		aad = aadFinal
	}
	var nonce [12]byte
	p, err := c.aead.Open(s.buf[:0], chunkNonce(&nonce, s.index), s.buf[:s.n], aad)
	if err != nil {
		return nil, fmt.Errorf("%w: object %s, chunk %d (bytes %d to %d) was changed at rest", ErrIntegrity, c.key, s.index, s.index*ChunkSize, s.index*ChunkSize+int64(s.n-tagSize))
	}
	return p[s.from:s.until], nil
}

// next reads and opens the next chunk into buf.
func (c *chunkSource) next(buf []byte) ([]byte, error) {
	s, err := c.read(buf)
	if err != nil {
		return nil, err
	}
	return c.open(s)
}

// minChunksAhead is the shortest range, in chunks after the first, that is
// opened ahead: decrypting the next chunks on other cores while the last
// one is written to a socket keeps a download from waiting on both in turn,
// and spreads AES-GCM over the cores, so an encrypted download from the
// page cache runs near the speed of a plain one instead of at one core's
// AES rate.
const minChunksAhead = 4

// maxOpeners bounds the goroutines opening one range's chunks.
const maxOpeners = 4

// longReads counts the ranges of at least minChunksAhead chunks being read
// now. Only a range read alone opens ahead: when others are in progress
// (a client fetching parts in parallel), the reads themselves spread
// AES-GCM over the cores, and the hand-offs between goroutines would cost
// more than they save (a tenth of a CPU second a GiB, measured with
// bench/encryption -download-with files).
var longReads atomic.Int32

// decideAheadAfter is how long a long read opens its chunks itself before
// it decides whether to open ahead: the other parts of a parallel download
// are requested within that time, so the decision sees them, and a read
// alone loses little by waiting.
var decideAheadAfter = 20 * time.Millisecond

// opened is a chunk opened ahead: its buffer and plaintext, or an error.
type opened struct {
	buf, plain []byte
	err        error
}

// reader hands out the plaintext of a range. It opens chunks itself, or
// takes them, in order, from goroutines that open them ahead: one reads the
// sealed chunks in order and hands each to a pool of openers, queueing a
// slot per chunk that its opener fills.
type reader struct {
	body  io.ReadCloser
	src   *chunkSource // nil once handed to the goroutines
	buf   []byte       // the buffer plain lies in
	plain []byte       // opened bytes not yet read
	err   error

	counted  bool      // counted in longReads until Close
	decideAt time.Time // when to decide whether to open ahead; zero once decided

	ahead chan chan opened // the slots of chunks in order; nil: no goroutines
	free  chan []byte      // buffers back to the reading goroutine
	stop  chan struct{}    // closed by Close
	done  chan struct{}    // closed when every goroutine has returned
}

// openJob is a chunk for an opener, and the slot its result goes to.
type openJob struct {
	chunk sealed
	slot  chan opened
}

func newReader(body io.ReadCloser, src *chunkSource, buf, plain []byte) *reader {
	r := &reader{body: body, src: src, buf: buf, plain: plain}
	if src.left >= minChunksAhead*ChunkSize {
		r.counted, r.decideAt = true, time.Now().Add(decideAheadAfter)
		longReads.Add(1)
	}
	return r
}

// openAhead starts the goroutines that open the rest of the range ahead.
func (r *reader) openAhead() {
	src := r.src
	openers := min(maxOpeners, max(1, cpus.Compute()))
	// Each opener holds a chunk, as many wait for one, and the consumer
	// holds the chunk it writes out.
	depth := 2*openers + 1
	r.ahead = make(chan chan opened, depth)
	r.free = make(chan []byte, depth+1)
	r.stop = make(chan struct{})
	r.done = make(chan struct{})
	for range depth {
		r.free <- make([]byte, sealedSize)
	}
	jobs := make(chan openJob, depth)
	finished := make(chan struct{}, openers+1)
	for range openers {
		go func() {
			defer func() { finished <- struct{}{} }()
			for j := range jobs {
				plain, err := openRecovered(src, j.chunk)
				j.slot <- opened{buf: j.chunk.buf, plain: plain, err: err}
			}
		}()
	}
	go func() {
		defer func() { finished <- struct{}{} }()
		defer close(jobs)
		defer close(r.ahead)
		r.readAhead(src, jobs)
	}()
	go func() {
		for range openers + 1 {
			<-finished
		}
		close(r.done)
	}()
	r.src = nil
}

// readAhead reads the rest of the range into free buffers and hands each
// chunk to the openers, queueing its slot, until the range is read, a read
// fails, or the reader is closed.
func (r *reader) readAhead(src *chunkSource, jobs chan<- openJob) {
	for src.left > 0 {
		var buf []byte
		select {
		case buf = <-r.free:
		case <-r.stop:
			return
		}
		slot := make(chan opened, 1)
		chunk, err := src.read(buf)
		if err != nil {
			slot <- opened{buf: buf, err: err}
		}
		select {
		case r.ahead <- slot:
		case <-r.stop:
			return
		}
		if err != nil {
			return
		}
		select {
		case jobs <- openJob{chunk: chunk, slot: slot}:
		case <-r.stop:
			return
		}
	}
}

// openRecovered is src.open, with a panic turned into an error: on its own
// goroutine, a panic would otherwise end the process rather than one read.
func openRecovered(src *chunkSource, s sealed) (p []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("cryptblob: opening object %s panicked: %v", src.key, v)
		}
	}()
	return src.open(s)
}

// next makes the next chunk's plaintext current; io.EOF after the last.
func (r *reader) next() error {
	if r.err != nil {
		return r.err
	}
	if !r.decideAt.IsZero() && !time.Now().Before(r.decideAt) {
		r.decideAt = time.Time{}
		if longReads.Load() == 1 && r.src.left >= minChunksAhead*ChunkSize {
			r.openAhead()
		}
	}
	if r.ahead == nil {
		if r.src.left == 0 {
			return io.EOF
		}
		r.plain, r.err = r.src.next(r.buf)
		return r.err
	}
	if r.buf != nil {
		r.free <- r.buf // never blocks: there is a slot for every buffer
		r.buf = nil
	}
	slot, ok := <-r.ahead
	if !ok {
		r.plain = nil
		return io.EOF
	}
	o := <-slot
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

// Close stops the goroutines opening ahead, if any, before closing the
// body they read.
func (r *reader) Close() error {
	if r.counted {
		r.counted = false
		longReads.Add(-1)
	}
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
