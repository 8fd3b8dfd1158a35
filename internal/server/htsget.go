package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/format/regions"
	"github.com/seqstore/seqstore/internal/htsget"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/readset"
)

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
	var index regions.File
	if file, ok := rs.File(seqstore.FileIndex); ok {
		index = &storedFile{readSets: s.readSets, rs: rs, file: file}
	}
	out := &htsget.ReadSet{Format: format}
	slice := regions.BAM
	out.Open = func(ctx context.Context, start, end int64) (io.ReadCloser, error) {
		return regions.OpenBAM(ctx, f, start, end)
	}
	if format == htsget.FormatCRAM {
		slice = regions.CRAM
		out.Open = f.Open
	}
	out.Slice = func(ctx context.Context, regs []htsget.Region) (*htsget.Slice, error) {
		sl, err := slice(ctx, f, index, regs)
		if err != nil {
			return nil, fmt.Errorf("read set %s: %w", rs.ID, err)
		}
		return sl, nil
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

// Size is the file's length.
func (f *storedFile) Size() int64 { return f.file.ContentLength }

// Open reads the bytes [start, end) of the file.
func (f *storedFile) Open(ctx context.Context, start, end int64) (io.ReadCloser, error) {
	if start < 0 || end > f.file.ContentLength || start > end {
		return nil, fmt.Errorf("range %d-%d is outside the %d bytes of %s", start, end, f.file.ContentLength, f.file.Name)
	}
	return f.readSets.OpenFileRange(ctx, f.rs, f.file, start, end-start)
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
