package readset

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/arn"
	"github.com/seqstore/seqstore/internal/blob"
	"github.com/seqstore/seqstore/internal/format/fasta"
	"github.com/seqstore/seqstore/internal/meta"
)

// storedReference returns the ACTIVE reference an ARN names in this
// seqstore: what a CRAM read set is decoded against. Unlike checkReference,
// which takes an ARN of a reference kept elsewhere on its form, a CRAM's
// reference must be here, since its bases are needed.
func (s *Service) storedReference(ctx context.Context, account, referenceArn string) (*seqstore.Reference, error) {
	if err := s.checkReference(ctx, account, referenceArn); err != nil {
		return nil, err
	}
	r, _ := arn.Parse(referenceArn)
	ref, err := s.Meta.ReferenceGet(ctx, account, r.StoreID, r.ID)
	if errors.Is(err, meta.ErrNotFound) {
		return nil, seqstore.Errorf(seqstore.CodeNotFound, "reference %s does not exist in this seqstore; CRAM read sets are decoded against their reference, so import it first (StartReferenceImportJob)", referenceArn)
	}
	if err != nil {
		return nil, err
	}
	if ref.Status != seqstore.ReferenceStatusActive {
		return nil, seqstore.Errorf(seqstore.CodeValidation, "reference %s is %s, not ACTIVE", referenceArn, ref.Status)
	}
	return ref, nil
}

// cramReference opens the stored FASTA of a CRAM read set's reference for
// decoding: its index read whole (a line per sequence), its bases read a
// sequence at a time from the object store as the CRAM reaches them.
func (s *Service) cramReference(ctx context.Context, rs *seqstore.ReadSet) (*fasta.File, error) {
	ref, err := s.storedReference(ctx, rs.AccountID, rs.ReferenceArn)
	if err != nil {
		var se *seqstore.Error
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%s", se.Message)
		}
		return nil, err
	}
	src, ok := ref.File(seqstore.FileSource)
	idx, okIdx := ref.File(seqstore.FileIndex)
	if !ok || !okIdx {
		return nil, fmt.Errorf("reference %s has no stored FASTA and index; import it again", rs.ReferenceArn)
	}
	r, err := s.Blobs.NewRangeReader(ctx, idx.Key, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("reading the index of reference %s: %w", rs.ReferenceArn, err)
	}
	defer r.Close()
	// The index is seqstore's own, a line per sequence; the bound keeps a
	// damaged object from being read into memory whole.
	entries, err := fasta.ReadIndex(io.LimitReader(r, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the index of reference %s: %w", rs.ReferenceArn, err)
	}
	return fasta.NewFile(&blobReaderAt{ctx: ctx, blobs: s.Blobs, key: src.Key, size: src.ContentLength}, "reference "+ref.ID, entries), nil
}

// blobReaderAt reads an object by ranges.
type blobReaderAt struct {
	ctx   context.Context
	blobs blob.Store
	key   string
	size  int64
}

func (b *blobReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= b.size {
		return 0, io.EOF
	}
	n := min(int64(len(p)), b.size-off)
	r, err := b.blobs.NewRangeReader(b.ctx, b.key, off, n)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	got, err := io.ReadFull(r, p[:n])
	if err == nil && n < int64(len(p)) {
		err = io.EOF
	}
	return got, err
}
