// Package compress opens a possibly compressed genomic file as a stream of
// its uncompressed bytes: BGZF (inflated in parallel), ordinary gzip
// including several members one after another (as `cat a.gz b.gz` makes),
// or plain text. It tells which it found so callers can report it.
package compress

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"

	"github.com/seqstore/seqstore/internal/format/bgzf"
)

// Kind is how a stream was compressed.
type Kind string

// The kinds Open recognises.
const (
	Plain Kind = "plain"
	Gzip  Kind = "gzip"
	BGZF  Kind = "bgzf"
)

// Open sniffs r and returns a reader of its uncompressed bytes. Reading a
// truncated or corrupt compressed stream fails with an error, never a silent
// short read.
func Open(r io.Reader) (io.ReadCloser, Kind, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	head, err := br.Peek(18)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, "", err
	}
	switch {
	case bgzf.IsHeader(head):
		return bgzf.NewReader(br), BGZF, nil
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, "", fmt.Errorf("gzip header: %w", err)
		}
		zr.Multistream(true)
		return &gzipReader{zr: zr}, Gzip, nil
	}
	return io.NopCloser(br), Plain, nil
}

// gzipReader names gzip errors for the user: a stream that ends early is a
// truncated file.
type gzipReader struct {
	zr *gzip.Reader
}

func (g *gzipReader) Read(p []byte) (int, error) {
	n, err := g.zr.Read(p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return n, errors.New("gzip stream ends early: the file is truncated")
	}
	if err != nil && err != io.EOF {
		return n, fmt.Errorf("gzip: %w", err)
	}
	return n, err
}

func (g *gzipReader) Close() error { return g.zr.Close() }
