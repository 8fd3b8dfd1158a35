package fasta

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Span returns where, in a FASTA file, the residues [start, end) of the
// sequence e indexes lie: the bytes [offset, offset+length), line endings
// between them included. start and end are 0-based and the caller has
// checked 0 <= start <= end <= e.Length; an empty range is an empty span.
func (e Entry) Span(start, end int64) (offset, length int64) {
	if end <= start {
		return e.byteOf(start), 0
	}
	first, last := e.byteOf(start), e.byteOf(end-1)
	return first, last - first + 1
}

// byteOf is the file offset of the residue at 0-based position i.
func (e Entry) byteOf(i int64) int64 {
	if e.LineBases <= 0 {
		return e.Offset + i
	}
	return e.Offset + i/e.LineBases*e.LineWidth + i%e.LineBases
}

// Residues reads the residues [start, end) of the sequence e indexes from
// r, which reads the file's bytes at e.Span(start, end): line endings are
// dropped and residues upper-cased, so what it yields is the sequence as
// its digests see it. Bytes that are not residues, or a count of residues
// other than end-start, mean the file and its index disagree: an error.
// It holds one buffer of 32 KiB whatever the range.
func Residues(r io.Reader, e Entry, start, end int64) io.Reader {
	return &residueReader{src: r, name: e.Name, left: end - start}
}

type residueReader struct {
	src     io.Reader
	name    string
	left    int64 // residues not yet returned
	buf     []byte
	pending []byte
}

// errStale is what Residues reports when the file does not match its index.
var errStale = errors.New("the FASTA file does not match its index")

func (rr *residueReader) Read(p []byte) (int, error) {
	for len(rr.pending) == 0 {
		if rr.left == 0 {
			return 0, io.EOF
		}
		if rr.buf == nil {
			rr.buf = make([]byte, 32<<10)
		}
		n, err := rr.src.Read(rr.buf)
		out := rr.buf[:0]
		for _, c := range rr.buf[:n] {
			switch {
			case c == '\n' || c == '\r':
				continue
			case c >= 'a' && c <= 'z':
				c -= 'a' - 'A'
			case c < 'A' || c > 'Z':
				return 0, fmt.Errorf("sequence %q: byte 0x%02x where a residue should be: %w", rr.name, c, errStale)
			}
			out = append(out, c)
		}
		if int64(len(out)) > rr.left {
			return 0, fmt.Errorf("sequence %q: more residues than its index says: %w", rr.name, errStale)
		}
		rr.left -= int64(len(out))
		rr.pending = out
		if err == io.EOF && rr.left > 0 {
			return 0, fmt.Errorf("sequence %q: %d residues fewer than its index says: %w", rr.name, rr.left, errStale)
		}
		if err != nil && err != io.EOF {
			return 0, err
		}
	}
	n := copy(p, rr.pending)
	rr.pending = rr.pending[n:]
	return n, nil
}

// FindEntry reads a .fai index up to the entry of the named sequence and
// returns it, or ErrNotFound. It holds one line at a time (at most
// 1 MiB), so an index of any size is searched in bounded memory.
func FindEntry(r io.Reader, name string) (Entry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	prefix := name + "\t"
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), "\r")
		if !strings.HasPrefix(text, prefix) {
			continue
		}
		return parseIndexLine(text, line)
	}
	if err := sc.Err(); err != nil {
		return Entry{}, err
	}
	return Entry{}, fmt.Errorf("%w: %q", ErrNotFound, name)
}
