// Package regions finds the bytes of a stored BAM or CRAM that hold the
// records of genomic regions, through the file's index (BAI or CRAI): the
// header, the stretches that hold the regions' records and the end-of-file
// marker, which concatenated make a valid file of the same format. That is
// what an htsget ticket lists.
//
// It reads the file and its index by byte ranges through File, and knows
// nothing of HTTP or of where files are kept.
package regions

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/seqstore/seqstore/internal/format/bai"
	"github.com/seqstore/seqstore/internal/format/bam"
	"github.com/seqstore/seqstore/internal/format/bgzf"
	"github.com/seqstore/seqstore/internal/format/cram"
	"github.com/seqstore/seqstore/internal/format/cram/crai"
	"github.com/seqstore/seqstore/internal/format/sam"
)

// File reads a stored file by byte ranges.
type File interface {
	Size() int64
	// Open reads the bytes [start, end).
	Open(ctx context.Context, start, end int64) (io.ReadCloser, error)
}

// Region is a stretch of one reference, 0-based and half-open: [Start,
// End). End below 0 runs to the reference's end. Reference "*" means the
// unplaced reads.
type Region struct {
	Reference  string
	Start, End int64
}

// Range is a stretch [Start, End) of a file: byte offsets in a CRAM, BGZF
// virtual offsets in a BAM.
type Range struct{ Start, End int64 }

// Slice is what makes a file of the regions: the header, the stretches of
// records, then Trailer, the format's end-of-file marker.
type Slice struct {
	Header  Range
	Body    []Range
	Trailer []byte
}

var (
	ErrUnknownReference = errors.New("no such reference in the file's header")
	ErrNoIndex          = errors.New("no index for region queries")
	ErrPastEnd          = errors.New("the region starts past the reference's end")
	ErrIndexTooLarge    = errors.New("the index is larger than a query reads")
)

// maxBAIBytes bounds the BAI a query reads into memory; a BAI of a whole
// human genome at deep coverage is tens of megabytes.
const maxBAIBytes = 512 << 20

// maxCRAIBytes bounds the compressed CRAI a query reads; its text is some
// ten times larger.
const maxCRAIBytes = 64 << 20

// joinGap is how many stored bytes apart two stretches of a BAM's records
// may be and still go as one range.
const joinGap = 256 << 10

// BAM finds the regions' records in a BAM through its BAI (index, nil if
// there is none). Its Ranges are virtual offsets: the header up to the
// first record, the index's chunks for the regions, or, for nil regions,
// all records.
func BAM(ctx context.Context, file, index File, regions []Region) (*Slice, error) {
	whole, err := file.Open(ctx, 0, file.Size())
	if err != nil {
		return nil, err
	}
	rd, err := bam.NewReader(whole)
	if err != nil {
		whole.Close()
		return nil, fmt.Errorf("reading the BAM header: %w", err)
	}
	_, headerEnd := rd.Offsets()
	refs := rd.Header().References
	rd.Close()
	whole.Close()
	// The records end before the EOF block, which the slice adds itself:
	// an empty block inside a BAM would end it for readers.
	recordsEnd, err := endBefore(ctx, file, bgzf.EOFMarker, headerEnd.BlockOffset())
	if err != nil {
		return nil, err
	}
	fileEnd := bgzf.MakeVirtualOffset(recordsEnd, 0)
	slice := &Slice{Header: Range{Start: 0, End: int64(headerEnd)}, Trailer: bgzf.EOFMarker}
	if regions == nil {
		if fileEnd > headerEnd {
			slice.Body = []Range{{Start: int64(headerEnd), End: int64(fileEnd)}}
		}
		return slice, nil
	}
	if index == nil {
		return nil, fmt.Errorf("%w: the BAM has no index, so only the whole file can be asked for", ErrNoIndex)
	}
	if index.Size() > maxBAIBytes {
		return nil, fmt.Errorf("%w: its BAI of %d bytes is larger than the %d a query reads", ErrIndexTooLarge, index.Size(), maxBAIBytes)
	}
	ib, err := index.Open(ctx, 0, index.Size())
	if err != nil {
		return nil, err
	}
	idx, err := bai.Read(ib, index.Size())
	ib.Close()
	if err != nil {
		return nil, err
	}
	var chunks []bai.Chunk
	for _, r := range regions {
		if r.Reference == "*" {
			chunks = append(chunks, bai.Chunk{Begin: idx.PlacedEnd(), End: fileEnd})
			continue
		}
		ref, end, err := place(refs, r)
		if err != nil {
			return nil, err
		}
		chunks = append(chunks, idx.Query(ref, r.Start, end)...)
	}
	for _, c := range bai.MergeChunks(chunks) {
		// Chunks never reach into the header or the EOF block.
		if c.Begin, c.End = max(c.Begin, headerEnd), min(c.End, fileEnd); c.Begin >= c.End {
			continue
		}
		// Chunks a few blocks apart go as one range: a client fetches
		// each range on its own, and whoever serves a range compresses
		// anew the blocks it cuts, which costs more than the records
		// between.
		if n := len(slice.Body); n > 0 && c.Begin.BlockOffset()-bgzf.VirtualOffset(slice.Body[n-1].End).BlockOffset() <= joinGap {
			slice.Body[n-1].End = int64(c.End)
			continue
		}
		slice.Body = append(slice.Body, Range{Start: int64(c.Begin), End: int64(c.End)})
	}
	return slice, nil
}

// CRAM finds the regions' records in a CRAM through its CRAI (index, nil
// if there is none). Its Ranges are byte offsets: containers are
// self-contained, so the header (up to the first data container), the
// containers that hold the regions' records and the EOF container make a
// valid CRAM.
func CRAM(ctx context.Context, file, index File, regions []Region) (*Slice, error) {
	whole, err := file.Open(ctx, 0, file.Size())
	if err != nil {
		return nil, err
	}
	rd, err := cram.NewReader(whole, nil)
	if err != nil {
		whole.Close()
		return nil, fmt.Errorf("reading the CRAM header: %w", err)
	}
	refs := rd.Header().References
	rd.Close()
	whole.Close()
	recordsEnd, err := endBefore(ctx, file, crai.EOF, 0)
	if err != nil {
		return nil, err
	}
	if index == nil {
		if regions != nil {
			return nil, fmt.Errorf("%w: the CRAM has no index, so only the whole file can be asked for", ErrNoIndex)
		}
		return &Slice{Header: Range{Start: 0, End: recordsEnd}, Trailer: crai.EOF}, nil
	}
	if index.Size() > maxCRAIBytes {
		return nil, fmt.Errorf("%w: its CRAI of %d bytes is larger than the %d a query reads", ErrIndexTooLarge, index.Size(), maxCRAIBytes)
	}
	ib, err := index.Open(ctx, 0, index.Size())
	if err != nil {
		return nil, err
	}
	entries, err := crai.Read(ib)
	ib.Close()
	if err != nil {
		return nil, err
	}
	headerEnd := recordsEnd
	for _, e := range entries {
		headerEnd = min(headerEnd, e.ContainerOffset)
	}
	slice := &Slice{Header: Range{Start: 0, End: headerEnd}, Trailer: crai.EOF}
	if regions == nil {
		if recordsEnd > headerEnd {
			slice.Body = []Range{{Start: headerEnd, End: recordsEnd}}
		}
		return slice, nil
	}
	var ranges []crai.Range
	for _, r := range regions {
		if r.Reference == "*" {
			ranges = append(ranges, crai.Containers(entries, -1, 0, 0, recordsEnd)...)
			continue
		}
		ref, end, err := place(refs, r)
		if err != nil {
			return nil, err
		}
		ranges = append(ranges, crai.Containers(entries, int32(ref), r.Start, end, recordsEnd)...)
	}
	// Regions may share containers: merge, so none comes twice.
	slices.SortFunc(ranges, func(a, b crai.Range) int { return cmp.Compare(a.Start, b.Start) })
	for _, r := range ranges {
		if n := len(slice.Body); n > 0 && r.Start <= slice.Body[n-1].End {
			slice.Body[n-1].End = max(slice.Body[n-1].End, r.End)
			continue
		}
		slice.Body = append(slice.Body, Range{Start: r.Start, End: r.End})
	}
	return slice, nil
}

// OpenBAM reads what a BAM slice's Range holds: the data between two
// virtual offsets of the file, as BGZF blocks without an end-of-file
// marker (bgzf.CopyVirtual), streamed as it is copied.
func OpenBAM(ctx context.Context, file File, start, end int64) (io.ReadCloser, error) {
	pr, pw := io.Pipe()
	go func() {
		defer func() {
			if p := recover(); p != nil {
				pw.CloseWithError(fmt.Errorf("copying the BAM's data panicked: %v", p))
			}
		}()
		open := func(s, e int64) (io.ReadCloser, error) { return file.Open(ctx, s, e) }
		pw.CloseWithError(bgzf.CopyVirtual(pw, open, file.Size(), bgzf.VirtualOffset(start), bgzf.VirtualOffset(end)))
	}()
	return pr, nil
}

// place finds a region's reference in the file's header, and its end, the
// reference's length when the region runs to the end. A region that
// starts past the reference's end is the client's mistake, to be answered
// as such rather than with an empty file.
func place(refs []sam.Reference, r Region) (ref int, end int64, err error) {
	ref = slices.IndexFunc(refs, func(sr sam.Reference) bool { return sr.Name == r.Reference })
	if ref < 0 {
		return 0, 0, fmt.Errorf("%w: %q", ErrUnknownReference, r.Reference)
	}
	length := int64(refs[ref].Length)
	if r.Start > length {
		return 0, 0, fmt.Errorf("%w: start %d is past the end of %s, which is %d bases long; positions are 0-based, from 0 to %d",
			ErrPastEnd, r.Start, r.Reference, length, length-1)
	}
	if end = r.End; end < 0 {
		end = length
	}
	return ref, end, nil
}

// endBefore returns where the file ends without its end-of-file marker
// when it ends with one no earlier than from, else its size.
func endBefore(ctx context.Context, file File, marker []byte, from int64) (int64, error) {
	size := file.Size()
	at := size - int64(len(marker))
	if at < from {
		return size, nil
	}
	body, err := file.Open(ctx, at, size)
	if err != nil {
		return 0, err
	}
	tail, err := io.ReadAll(body)
	body.Close()
	if err != nil {
		return 0, err
	}
	if bytes.Equal(tail, marker) {
		return at, nil
	}
	return size, nil
}
