package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/format/bai"
	"github.com/seqstore/seqstore/internal/format/bam"
	"github.com/seqstore/seqstore/internal/format/bgzf"
	"github.com/seqstore/seqstore/internal/htsget"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/readset"
	"github.com/seqstore/seqstore/internal/sigv4"
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
	out := &htsget.ReadSet{Format: format, Open: f.open}
	if format == htsget.FormatBAM {
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
				return nil, fmt.Errorf("%w: read set %s is %s; only ACTIVE read sets can be read", htsget.ErrNotFound, id, rs.Status)
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
	ctx      context.Context // for ReadAt
}

func (f *storedFile) open(ctx context.Context, start, end int64) (io.ReadCloser, error) {
	if start < 0 || end > f.file.ContentLength || start > end {
		return nil, fmt.Errorf("range %d-%d is outside the %d bytes of %s", start, end, f.file.ContentLength, f.file.Name)
	}
	return f.readSets.OpenFileRange(ctx, f.rs, f.file, start, end-start)
}

// ReadAt lets format code read block headers of the stored file.
func (f *storedFile) ReadAt(p []byte, off int64) (int, error) {
	end := min(off+int64(len(p)), f.file.ContentLength)
	if off >= end {
		return 0, io.EOF
	}
	body, err := f.open(f.ctx, off, end)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	n, err := io.ReadFull(body, p[:end-off])
	if err == nil && n < len(p) {
		err = io.EOF
	}
	return n, err
}

// bamSlice answers a BAM read set's htsget query through its BAI.
func bamSlice(ctx context.Context, file *storedFile, rs *seqstore.ReadSet, regions []htsget.Region) (*htsget.Slice, error) {
	f := *file
	f.ctx = ctx
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
	head, err := bai.ByteRanges([]bai.Chunk{{End: headerEnd}}, &f, 0)
	if err != nil || len(head) != 1 {
		return nil, fmt.Errorf("read set %s: the BAM header's blocks: %v", rs.ID, err)
	}
	// The body ends before the EOF block, which the ticket adds itself: an
	// empty block inside a BAM would end it for readers.
	bodyEnd := size
	if size-int64(len(bgzf.EOFMarker)) >= head[0].End {
		tail := make([]byte, len(bgzf.EOFMarker))
		if _, err := f.ReadAt(tail, size-int64(len(tail))); err != nil {
			return nil, err
		}
		if bytes.Equal(tail, bgzf.EOFMarker) {
			bodyEnd -= int64(len(tail))
		}
	}
	slice := &htsget.Slice{Header: htsget.Range{Start: 0, End: head[0].End}, Trailer: bgzf.EOFMarker}
	if regions == nil {
		if bodyEnd > head[0].End {
			slice.Body = []htsget.Range{{Start: head[0].End, End: bodyEnd}}
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
			chunks = append(chunks, bai.Chunk{Begin: max(idx.PlacedEnd(), headerEnd), End: bgzf.MakeVirtualOffset(bodyEnd, 0)})
			continue
		}
		ref := -1
		for i, sr := range refs {
			if sr.Name == r.Reference {
				ref = i
				break
			}
		}
		if ref < 0 {
			return nil, fmt.Errorf("%w: read set %s has no reference %q in its header", htsget.ErrUnknownReference, rs.ID, r.Reference)
		}
		end := r.End
		if end < 0 {
			end = int64(refs[ref].Length)
		}
		chunks = append(chunks, idx.Query(ref, r.Start, end)...)
	}
	ranges, err := bai.ByteRanges(chunks, &f, head[0].End)
	if err != nil {
		return nil, fmt.Errorf("read set %s: %w", rs.ID, err)
	}
	for _, r := range ranges {
		slice.Body = append(slice.Body, htsget.Range{Start: r.Start, End: min(r.End, bodyEnd)})
	}
	return slice, nil
}

// newHtsget serves htsget tickets signed for the omics service with the
// API's keys, and their data URLs by the token each carries.
func newHtsget(m meta.Store, rs *readset.Service, verifier *sigv4.Verifier, key []byte, now func() time.Time) *htsget.Handler {
	return &htsget.Handler{
		Store: htsgetReads{meta: m, readSets: rs},
		Authenticate: func(r *http.Request) (string, error) {
			id, err := verifier.Verify(r, sigv4.Options{})
			return id.AccountID, err
		},
		Key: key,
		Now: now,
		Log: rs.Log,
	}
}
