// Package compress opens a possibly compressed input: it sniffs whether the
// bytes are plain, gzip or BGZF and returns a reader of the uncompressed
// stream, decompressing BGZF on every core and gzip on a goroutine of its
// own so that the caller's parsing overlaps the inflating.
package compress

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/seqstore/seqstore/internal/format/bgzf"
	"github.com/seqstore/seqstore/internal/format/inflate"
	"github.com/seqstore/seqstore/internal/format/panics"
)

// Kind is how an input is compressed.
type Kind int

// The kinds Open recognises. Only Plain, Gzip and BGZF can be read; the
// others are named so that an error can say what the input is.
const (
	Plain Kind = iota
	Gzip
	BGZF
	Bzip2
	XZ
	Zstd
)

func (k Kind) String() string {
	switch k {
	case Plain:
		return "plain"
	case Gzip:
		return "gzip"
	case BGZF:
		return "BGZF"
	case Bzip2:
		return "bzip2"
	case XZ:
		return "xz"
	case Zstd:
		return "zstd"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is a defect in compressed input.
type Error struct {
	Kind Kind
	// Offset is how many compressed bytes had been read when the defect
	// showed: exact for a truncated file (its size), otherwise within the
	// read-ahead of the decompressor.
	Offset int64
	Err    error
}

func (e *Error) Error() string {
	if errors.Is(e.Err, io.ErrUnexpectedEOF) {
		return fmt.Sprintf("%s data truncated: the file ends after %d bytes in the middle of a gzip member", e.Kind, e.Offset)
	}
	return fmt.Sprintf("%s data corrupt near byte offset %d: %v", e.Kind, e.Offset, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// SniffSize is enough to recognise any of the kinds: a BGZF header is 18
// bytes.
const SniffSize = 18

// Sniff says how the input starting with head is compressed. head should
// hold the input's first 18 bytes, or all of it if shorter.
func Sniff(head []byte) Kind {
	switch {
	case bgzf.IsHeader(head):
		return BGZF
	case len(head) >= 3 && head[0] == 0x1f && head[1] == 0x8b && head[2] == 8:
		return Gzip
	case bytes.HasPrefix(head, []byte("BZh")) && len(head) >= 4 && head[3] >= '1' && head[3] <= '9':
		return Bzip2
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return XZ
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return Zstd
	}
	return Plain
}

// Open returns the uncompressed stream of r and how r was compressed:
// plain input passes through, BGZF is inflated by a parallel bgzf.Reader,
// and gzip, including several gzip members one after the other as `cat
// a.gz b.gz` makes, by a gzip reader running ahead on its own goroutine. A
// truncated or corrupt gzip stream reads as an *Error (a defective BGZF
// block as a *bgzf.BlockError), never as a clean end; an error reading r
// comes back as it is, and a panic on the decompressing goroutines (of r
// itself, say) as a *panics.Error. bzip2, xz and zstd are recognised and refused. Close the returned
// reader to stop its goroutines: once Close returns, nothing reads r any
// more. Close does not close r.
func Open(r io.Reader) (io.ReadCloser, Kind, error) {
	counter := &countingReader{r: r}
	br := bufio.NewReaderSize(counter, 256<<10)
	head, err := br.Peek(SniffSize)
	if err != nil && err != io.EOF {
		return nil, Plain, err
	}
	kind := Sniff(head)
	switch kind {
	case Plain:
		return io.NopCloser(br), kind, nil
	case BGZF:
		return bgzf.NewReader(br), kind, nil
	case Gzip:
		return newGzipReader(br, counter), kind, nil
	}
	return nil, kind, fmt.Errorf("%s compression is not supported: compress with gzip or bgzip", kind)
}

// countingReader counts the compressed bytes read and keeps the source's
// own failure apart from defects of the data. Its fields are used by one
// goroutine at a time, handed over by channels.
type countingReader struct {
	r   io.Reader
	n   int64
	err error // the first error of r other than io.EOF
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

// chunkSize is how much inflated data the gzip goroutine hands over at a
// time: large enough that the handover costs nothing next to inflating it.
const chunkSize = 256 << 10

type chunk struct {
	data []byte
	err  error
}

// gzipReader inflates on its own goroutine, a few chunks ahead of Read.
type gzipReader struct {
	chunks chan chunk
	free   chan []byte
	quit   chan struct{}
	once   sync.Once
	// stopped is closed when the inflating goroutine has ended.
	stopped chan struct{}

	cur  chunk
	pos  int
	done bool
}

func newGzipReader(br *bufio.Reader, counter *countingReader) *gzipReader {
	const depth = 4
	g := &gzipReader{
		chunks:  make(chan chunk, depth),
		free:    make(chan []byte, depth+1),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	for range depth + 1 {
		g.free <- make([]byte, chunkSize)
	}
	go g.inflate(br, counter)
	return g
}

// inflate runs on the reader's goroutine: it inflates chunk after chunk
// and hands on the error that ends the stream, a panic included.
func (g *gzipReader) inflate(br *bufio.Reader, counter *countingReader) {
	defer close(g.stopped)
	defer close(g.chunks)
	if err := g.inflateChunks(br, counter); err != nil {
		select {
		case g.chunks <- chunk{err: err}:
		case <-g.quit:
		}
	}
}

// inflateChunks inflates until the input ends (nil), the reader is closed
// (nil), or an error, which it returns: a defect of the data as an *Error,
// a failure of the source as it is, a panic as a *panics.Error.
func (g *gzipReader) inflateChunks(br *bufio.Reader, counter *countingReader) (err error) {
	defer panics.Recover(&err)
	// Members follow one another until the input ends.
	zr := inflate.NewGzipReader(br)
	for {
		var buf []byte
		select {
		case buf = <-g.free:
		case <-g.quit:
			return nil
		}
		// Closed while a chunk was free: read no further.
		select {
		case <-g.quit:
			return nil
		default:
		}
		// Fill the chunk; unlike io.ReadFull this keeps a clean io.EOF
		// apart from the io.ErrUnexpectedEOF of a truncated member.
		n := 0
		var err error
		for n < len(buf) && err == nil {
			var m int
			m, err = zr.Read(buf[n:])
			n += m
		}
		if n > 0 {
			select {
			case g.chunks <- chunk{data: buf[:n]}:
			case <-g.quit:
				return nil
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if counter.err != nil {
				return counter.err // the source failed: not a defect of the file
			}
			return &Error{Kind: Gzip, Offset: counter.n, Err: err}
		}
	}
}

func (g *gzipReader) Read(p []byte) (int, error) {
	for g.pos == len(g.cur.data) {
		if g.cur.err != nil {
			return 0, g.cur.err
		}
		if g.done {
			return 0, io.EOF
		}
		if g.cur.data != nil {
			g.free <- g.cur.data[:cap(g.cur.data)]
		}
		c, ok := <-g.chunks
		if !ok {
			g.done = true
			g.cur = chunk{}
			g.pos = 0
			continue
		}
		g.cur, g.pos = c, 0
	}
	n := copy(p, g.cur.data[g.pos:])
	g.pos += n
	return n, nil
}

// Close stops the inflating goroutine and waits for it to end, so that
// nothing reads the source once it returns (a Read of the source in
// progress is waited for).
func (g *gzipReader) Close() error {
	g.once.Do(func() {
		close(g.quit)
		<-g.stopped
		g.cur = chunk{err: errors.New("compress: read after Close")}
		g.pos = 0
	})
	return nil
}
