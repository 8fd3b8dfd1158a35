package server

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/format/bai"
	"github.com/seqstore/seqstore/internal/format/bam"
	"github.com/seqstore/seqstore/internal/format/bgzf"
	"github.com/seqstore/seqstore/internal/format/cram"
	"github.com/seqstore/seqstore/internal/format/cram/crai"
	"github.com/seqstore/seqstore/internal/format/sam"
	"github.com/seqstore/seqstore/internal/htsget"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/readset"
)

// maxIndexBytes bounds the BAI an htsget query reads into memory; a BAI
// of a whole human genome at deep coverage is tens of megabytes.
const maxIndexBytes = 512 << 20

// htsgetReads is the read-set service as htsget's store of read sets.
type htsgetReads struct {
	meta     meta.Store
	readSets *readset.Service
}

// ReadSet finds an ACTIVE read set by its ID among the account's sequence
// stores: htsget names a read set by its ID alone.
func (s htsgetReads) ReadSet(ctx context.Context, account, id string) (*htsget.ReadSet, error) {
	rs, err := s.find(ctx, account, id)
	if err != nil {
		return nil, err
	}
	source, ok := rs.File(seqstore.FileSource1)
	if !ok {
		return nil, htsget.ErrNotFound
	}
	format := rs.FileType
	if format == seqstore.FileTypeUBAM {
		format = seqstore.FileTypeBAM
	}
	f := &storedFile{readSets: s.readSets, rs: rs, file: source}
	out := &htsget.ReadSet{Format: format}
	if format == htsget.FormatCRAM {
		out.Open = f.open
		out.Slice = func(ctx context.Context, regions []htsget.Region) (*htsget.Slice, error) {
			return cramSlice(ctx, f, rs, regions)
		}
	}
	if format == htsget.FormatBAM {
		out.Open = f.openVirtual
		out.Slice = func(ctx context.Context, regions []htsget.Region) (*htsget.Slice, error) {
			return bamSlice(ctx, f, rs, regions)
		}
	}
	return out, nil
}

func (s htsgetReads) find(ctx context.Context, account, id string) (*seqstore.ReadSet, error) {
	page := meta.Page{Limit: 100}
	for {
		stores, next, err := s.meta.SequenceStoreList(ctx, account, meta.SequenceStoreFilter{}, page)
		if err != nil {
			return nil, err
		}
		for _, st := range stores {
			rs, err := s.meta.ReadSetGet(ctx, account, st.ID, id)
			if errors.Is(err, meta.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if rs.Status != seqstore.ReadSetStatusActive {
				return nil, fmt.Errorf("%w: read set %s is %s; only ACTIVE read sets can be read (StartReadSetActivationJob brings an archived one back)", htsget.ErrNotFound, id, rs.Status)
			}
			return rs, nil
		}
		if next == "" {
			return nil, htsget.ErrNotFound
		}
		page.After = next
	}
}

// storedFile reads one stored file of a read set, by ranges.
type storedFile struct {
	readSets *readset.Service
	rs       *seqstore.ReadSet
	file     seqstore.StoredFile
}

// open reads the bytes [start, end) of the file.
func (f *storedFile) open(ctx context.Context, start, end int64) (io.ReadCloser, error) {
	if start < 0 || end > f.file.ContentLength || start > end {
		return nil, fmt.Errorf("range %d-%d is outside the %d bytes of %s", start, end, f.file.ContentLength, f.file.Name)
	}
	return f.readSets.OpenFileRange(ctx, f.rs, f.file, start, end-start)
}

// endBefore returns where the file ends without its end-of-file marker
// when it ends with one no earlier than from, else its size.
func (f *storedFile) endBefore(ctx context.Context, marker []byte, from int64) (int64, error) {
	size := f.file.ContentLength
	at := size - int64(len(marker))
	if at < from {
		return size, nil
	}
	body, err := f.open(ctx, at, size)
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

// openVirtual streams the data between two virtual offsets of the BGZF
// file as BGZF blocks, which is what a BAM slice's Range means.
func (f *storedFile) openVirtual(ctx context.Context, start, end int64) (io.ReadCloser, error) {
	pr, pw := io.Pipe()
	go func() {
		defer func() {
			if p := recover(); p != nil {
				pw.CloseWithError(fmt.Errorf("copying the BAM's data panicked: %v", p))
			}
		}()
		open := func(s, e int64) (io.ReadCloser, error) { return f.open(ctx, s, e) }
		pw.CloseWithError(bgzf.CopyVirtual(pw, open, f.file.ContentLength, bgzf.VirtualOffset(start), bgzf.VirtualOffset(end)))
	}()
	return pr, nil
}

// joinGap is how many stored bytes apart two chunks of a BAM ticket may be
// and still go as one URL.
const joinGap = 256 << 10

// bamSlice answers a BAM read set's htsget query through its BAI. Its
// Ranges are virtual offsets: the header up to the first record, the
// index's chunks for the regions, or all records.
func bamSlice(ctx context.Context, f *storedFile, rs *seqstore.ReadSet, regions []htsget.Region) (*htsget.Slice, error) {
	size := f.file.ContentLength
	whole, err := f.open(ctx, 0, size)
	if err != nil {
		return nil, err
	}
	rd, err := bam.NewReader(whole)
	if err != nil {
		whole.Close()
		return nil, fmt.Errorf("read set %s: reading the BAM header: %w", rs.ID, err)
	}
	_, headerEnd := rd.Offsets()
	refs := rd.Header().References
	rd.Close()
	whole.Close()
	// The records end before the EOF block, which the ticket adds itself:
	// an empty block inside a BAM would end it for readers.
	recordsEnd, err := f.endBefore(ctx, bgzf.EOFMarker, headerEnd.BlockOffset())
	if err != nil {
		return nil, err
	}
	fileEnd := bgzf.MakeVirtualOffset(recordsEnd, 0)
	slice := &htsget.Slice{Header: htsget.Range{Start: 0, End: int64(headerEnd)}, Trailer: bgzf.EOFMarker}
	if regions == nil {
		if fileEnd > headerEnd {
			slice.Body = []htsget.Range{{Start: int64(headerEnd), End: int64(fileEnd)}}
		}
		return slice, nil
	}
	indexFile, ok := rs.File(seqstore.FileIndex)
	if !ok {
		return nil, fmt.Errorf("%w: read set %s has no BAM index, so only the whole file can be asked for", htsget.ErrNoIndex, rs.ID)
	}
	if indexFile.ContentLength > maxIndexBytes {
		return nil, fmt.Errorf("read set %s: its index of %d bytes is larger than the %d an htsget query reads", rs.ID, indexFile.ContentLength, maxIndexBytes)
	}
	ib, err := f.readSets.OpenFileRange(ctx, rs, indexFile, 0, indexFile.ContentLength)
	if err != nil {
		return nil, err
	}
	idx, err := bai.Read(ib, indexFile.ContentLength)
	ib.Close()
	if err != nil {
		return nil, fmt.Errorf("read set %s: %w", rs.ID, err)
	}
	var chunks []bai.Chunk
	for _, r := range regions {
		if r.Reference == "*" {
			chunks = append(chunks, bai.Chunk{Begin: idx.PlacedEnd(), End: fileEnd})
			continue
		}
		ref, end, err := placeRegion(rs, refs, r)
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
		// Chunks a few blocks apart go as one URL: a client opens a
		// connection for each URL, and the server compresses anew the
		// blocks a URL cuts, which costs more than the records between.
		if n := len(slice.Body); n > 0 && c.Begin.BlockOffset()-bgzf.VirtualOffset(slice.Body[n-1].End).BlockOffset() <= joinGap {
			slice.Body[n-1].End = int64(c.End)
			continue
		}
		slice.Body = append(slice.Body, htsget.Range{Start: int64(c.Begin), End: int64(c.End)})
	}
	return slice, nil
}

// placeRegion finds a region's reference in the file's header, and its
// end, the reference's length when the region runs to the end. A region
// that starts past the reference's end is the client's mistake, which
// htsget answers with InvalidRange rather than an empty file.
func placeRegion(rs *seqstore.ReadSet, refs []sam.Reference, r htsget.Region) (ref int, end int64, err error) {
	ref = slices.IndexFunc(refs, func(sr sam.Reference) bool { return sr.Name == r.Reference })
	if ref < 0 {
		return 0, 0, fmt.Errorf("%w: read set %s has no reference %q in its header", htsget.ErrUnknownReference, rs.ID, r.Reference)
	}
	length := int64(refs[ref].Length)
	if r.Start > length {
		return 0, 0, fmt.Errorf("%w: start %d is past the end of %s, which is %d bases long in read set %s; positions are 0-based, from 0 to %d",
			htsget.ErrPastEnd, r.Start, r.Reference, length, rs.ID, length-1)
	}
	if end = r.End; end < 0 {
		end = length
	}
	return ref, end, nil
}

// maxCRAIBytes bounds the compressed CRAI an htsget query reads; its text
// is some ten times larger.
const maxCRAIBytes = 64 << 20

// cramSlice answers a CRAM read set's htsget query through its CRAI. Its
// Ranges are byte offsets: containers are self-contained, so the header
// (up to the first data container), the containers that hold the
// regions' records and the EOF container make a valid CRAM.
func cramSlice(ctx context.Context, f *storedFile, rs *seqstore.ReadSet, regions []htsget.Region) (*htsget.Slice, error) {
	size := f.file.ContentLength
	whole, err := f.open(ctx, 0, size)
	if err != nil {
		return nil, err
	}
	rd, err := cram.NewReader(whole, nil)
	if err != nil {
		whole.Close()
		return nil, fmt.Errorf("read set %s: reading the CRAM header: %w", rs.ID, err)
	}
	refs := rd.Header().References
	rd.Close()
	whole.Close()
	recordsEnd, err := f.endBefore(ctx, crai.EOF, 0)
	if err != nil {
		return nil, err
	}
	indexFile, ok := rs.File(seqstore.FileIndex)
	if !ok {
		if regions != nil {
			return nil, fmt.Errorf("%w: read set %s has no CRAM index, so only the whole file can be asked for", htsget.ErrNoIndex, rs.ID)
		}
		return &htsget.Slice{Header: htsget.Range{Start: 0, End: recordsEnd}, Trailer: crai.EOF}, nil
	}
	if indexFile.ContentLength > maxCRAIBytes {
		return nil, fmt.Errorf("read set %s: its index of %d bytes is larger than the %d an htsget query reads", rs.ID, indexFile.ContentLength, maxCRAIBytes)
	}
	ib, err := f.readSets.OpenFileRange(ctx, rs, indexFile, 0, indexFile.ContentLength)
	if err != nil {
		return nil, err
	}
	entries, err := crai.Read(ib)
	ib.Close()
	if err != nil {
		return nil, fmt.Errorf("read set %s: %w", rs.ID, err)
	}
	headerEnd := recordsEnd
	for _, e := range entries {
		headerEnd = min(headerEnd, e.ContainerOffset)
	}
	slice := &htsget.Slice{Header: htsget.Range{Start: 0, End: headerEnd}, Trailer: crai.EOF}
	if regions == nil {
		if recordsEnd > headerEnd {
			slice.Body = []htsget.Range{{Start: headerEnd, End: recordsEnd}}
		}
		return slice, nil
	}
	var ranges []crai.Range
	for _, r := range regions {
		if r.Reference == "*" {
			ranges = append(ranges, crai.Containers(entries, -1, 0, 0, recordsEnd)...)
			continue
		}
		ref, end, err := placeRegion(rs, refs, r)
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
		slice.Body = append(slice.Body, htsget.Range{Start: r.Start, End: r.End})
	}
	return slice, nil
}

// newHtsget serves htsget tickets to callers authenticate names, and their
// data URLs by the token each carries.
func newHtsget(m meta.Store, rs *readset.Service, authenticate func(*http.Request) (string, error), key []byte, now func() time.Time) *htsget.Handler {
	return &htsget.Handler{
		Store:        htsgetReads{meta: m, readSets: rs},
		Authenticate: authenticate,
		Key:          key,
		Now:          now,
		Log:          rs.Log,
	}
}
