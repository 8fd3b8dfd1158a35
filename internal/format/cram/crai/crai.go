// Package crai writes and reads CRAM indexes (.crai): gzip-compressed text
// with one line per slice (per reference run of a multi-reference slice)
// giving the reference id, alignment start and span, the container's byte
// offset, the slice's offset within the container's data and its size, as
// htslib's cram_index_build writes them. No Go library writes CRAI.
package crai

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// Entry is one line of a CRAI.
type Entry struct {
	RefID           int32 // -1 for unmapped reads
	Start           int64 // 1-based alignment start (0 for unmapped)
	Span            int64
	ContainerOffset int64 // byte offset of the container in the CRAM
	SliceOffset     int64 // offset of the slice header block after the container header
	SliceSize       int64 // bytes of the slice's blocks
}

// Writer writes CRAI entries.
type Writer struct {
	gz  *gzip.Writer
	buf []byte
	n   int
}

// NewWriter returns a Writer onto w; Close finishes the gzip stream.
func NewWriter(w io.Writer) *Writer {
	return &Writer{gz: gzip.NewWriter(w)}
}

// Add writes one entry.
func (w *Writer) Add(e Entry) error {
	b := w.buf[:0]
	b = strconv.AppendInt(b, int64(e.RefID), 10)
	b = append(b, '\t')
	b = strconv.AppendInt(b, e.Start, 10)
	b = append(b, '\t')
	b = strconv.AppendInt(b, e.Span, 10)
	b = append(b, '\t')
	b = strconv.AppendInt(b, e.ContainerOffset, 10)
	b = append(b, '\t')
	b = strconv.AppendInt(b, e.SliceOffset, 10)
	b = append(b, '\t')
	b = strconv.AppendInt(b, e.SliceSize, 10)
	b = append(b, '\n')
	w.buf = b
	w.n++
	_, err := w.gz.Write(b)
	return err
}

// Entries is how many entries were added.
func (w *Writer) Entries() int { return w.n }

// Close flushes the index.
func (w *Writer) Close() error { return w.gz.Close() }

// Read parses a CRAI.
func Read(r io.Reader) ([]Entry, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("crai: %w", err)
	}
	defer gz.Close()
	var out []Entry
	sc := bufio.NewScanner(gz)
	for line := 1; sc.Scan(); line++ {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 6 {
			return nil, fmt.Errorf("crai line %d: %d fields, want 6", line, len(f))
		}
		var v [6]int64
		for i := range f {
			if v[i], err = strconv.ParseInt(f[i], 10, 64); err != nil {
				return nil, fmt.Errorf("crai line %d field %d: %w", line, i+1, err)
			}
		}
		out = append(out, Entry{int32(v[0]), v[1], v[2], v[3], v[4], v[5]})
	}
	return out, sc.Err()
}
