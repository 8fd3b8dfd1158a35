// Package crai writes and reads CRAM indexes (.crai): gzip-compressed text
// with one line per slice (per reference run of a multi-reference slice)
// giving the reference id, alignment start and span, the container's byte
// offset, the slice's offset within the container's data and its size, as
// htslib's cram_index_build writes them. No Go library writes CRAI.
package crai

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
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

// EOF is the empty container that ends every complete CRAM 3 file.
var EOF = []byte{
	0x0f, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f, 0xe0, 0x45, 0x4f, 0x46, 0x00, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x05, 0xbd, 0xd9, 0x4f, 0x00, 0x01, 0x00, 0x06, 0x06, 0x01, 0x00, 0x01, 0x00,
	0x01, 0x00, 0xee, 0x63, 0x01, 0x4b,
}

// Range is a stretch [Start, End) of a CRAM file's bytes.
type Range struct{ Start, End int64 }

// Containers returns the byte ranges of the whole containers that hold
// records of reference ref (-1: the unplaced reads) overlapping the
// 0-based half-open interval [beg, end), merged where they touch. A
// container ends where the next one the index names starts, the last at
// dataEnd (where the EOF container starts). Containers are
// self-contained, so the ranges need no cutting.
func Containers(entries []Entry, ref int32, beg, end, dataEnd int64) []Range {
	starts := make([]int64, 0, len(entries))
	for _, e := range entries {
		starts = append(starts, e.ContainerOffset)
	}
	slices.Sort(starts)
	starts = slices.Compact(starts)
	var out []Range
	for _, e := range entries {
		if e.RefID != ref {
			continue
		}
		if ref >= 0 && (e.Start-1 >= end || e.Start-1+e.Span <= beg) {
			continue
		}
		i, _ := slices.BinarySearch(starts, e.ContainerOffset)
		r := Range{Start: e.ContainerOffset, End: dataEnd}
		if i+1 < len(starts) {
			r.End = starts[i+1]
		}
		if r.End > r.Start {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Range) int { return cmp.Compare(a.Start, b.Start) })
	merged := out[:0]
	for _, r := range out {
		if n := len(merged); n > 0 && r.Start <= merged[n-1].End {
			merged[n-1].End = max(merged[n-1].End, r.End)
			continue
		}
		merged = append(merged, r)
	}
	return merged
}
