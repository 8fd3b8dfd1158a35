package reference

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

// Get returns a reference's metadata, DELETED ones included: their record
// stays until their store is deleted.
func (s *Service) Get(ctx context.Context, account, storeID, id string) (*seqstore.Reference, error) {
	if err := s.store(ctx, account, storeID); err != nil {
		return nil, err
	}
	ref, err := s.Meta.ReferenceGet(ctx, account, storeID, id)
	if errors.Is(err, meta.ErrNotFound) {
		return nil, seqstore.Errorf(seqstore.CodeNotFound, "reference %s does not exist in reference store %s", id, storeID)
	}
	return ref, err
}

// List lists a store's references.
func (s *Service) List(ctx context.Context, account, storeID string, f meta.ReferenceFilter, p meta.Page) ([]*seqstore.Reference, string, error) {
	if err := s.store(ctx, account, storeID); err != nil {
		return nil, "", err
	}
	return s.Meta.ReferenceList(ctx, account, storeID, f, p)
}

// Range asks for bytes First..Last (inclusive) of a part, as an HTTP Range
// header's one byte range does. Last < 0 reads to the part's end; First < 0
// asks for the part's last -First bytes.
type Range struct {
	First, Last int64
}

// Part is one part of a stored file, or a range of it, ready to stream.
type Part struct {
	Body   io.ReadCloser
	Length int64
}

// GetPart opens part number (1-based) of a reference's file (SOURCE when
// file is empty): the bytes [(number-1)*partSize, min(number*partSize,
// contentLength)), or the range rng of them when rng is not nil.
func (s *Service) GetPart(ctx context.Context, account, storeID, id, file string, number int, rng *Range) (*Part, error) {
	ref, err := s.Get(ctx, account, storeID, id)
	if err != nil {
		return nil, err
	}
	if ref.Status != seqstore.ReferenceStatusActive {
		// GetReference's model names no ConflictException: the files of
		// a reference being deleted are gone, or soon will be.
		return nil, seqstore.Errorf(seqstore.CodeNotFound, "reference %s is %s: its files are deleted", id, ref.Status)
	}
	if file == "" {
		file = seqstore.FileSource
	}
	f, ok := ref.File(file)
	if !ok {
		return nil, seqstore.Errorf(seqstore.CodeNotFound, "reference %s has no %s file", id, file)
	}
	if number == 0 {
		number = 1
	}
	total := f.TotalParts()
	if number < 1 || number > total {
		return nil, seqstore.Errorf(seqstore.CodeRangeNotSatisfiable, "part %d is out of range: file %s of reference %s has %d part(s)", number, file, id, total)
	}
	off := int64(number-1) * f.PartSize
	n := min(f.PartSize, f.ContentLength-off)
	if rng != nil {
		first, last, err := rng.resolve(n)
		if err != nil {
			return nil, err
		}
		off, n = off+first, last-first+1
	}
	body, err := s.Blobs.NewRangeReader(ctx, f.Key, off, n)
	if err != nil {
		return nil, err
	}
	return &Part{Body: body, Length: n}, nil
}

// resolve turns the range into first and last offsets within a part of
// size bytes.
func (r Range) resolve(size int64) (first, last int64, err error) {
	first, last = r.First, r.Last
	switch {
	case first < 0:
		if -first > size {
			first = -size
		}
		first, last = size+first, size-1
	case last < 0 || last >= size:
		last = size - 1
	}
	if first > last || first >= size {
		return 0, 0, seqstore.Errorf(seqstore.CodeRangeNotSatisfiable, "range %s is outside the part's %d bytes", r, size)
	}
	return first, last, nil
}

func (r Range) String() string {
	switch {
	case r.First < 0:
		return fmt.Sprintf("bytes=%d", r.First)
	case r.Last < 0:
		return fmt.Sprintf("bytes=%d-", r.First)
	}
	return fmt.Sprintf("bytes=%d-%d", r.First, r.Last)
}

// Delete deletes a reference no read set uses: it becomes DELETING, its
// files are removed, and it ends DELETED, its record kept for
// GetReferenceMetadata until its store is deleted. A reference still named
// by a read set that is not DELETED is refused. It is marked DELETING before
// the read sets are counted, so a read set created meanwhile (which needs
// an ACTIVE reference) is either counted or refused.
func (s *Service) Delete(ctx context.Context, account, storeID, id string) error {
	ref, err := s.Get(ctx, account, storeID, id)
	if err != nil {
		return err
	}
	if ref.Status == seqstore.ReferenceStatusDeleted {
		return seqstore.Errorf(seqstore.CodeNotFound, "reference %s is already deleted", id)
	}
	from := ref.Status
	ref.Status, ref.UpdatedAt = seqstore.ReferenceStatusDeleting, s.now()
	if err := s.Meta.ReferenceUpdate(ctx, ref); err != nil {
		return err
	}
	arn := s.ARN.Reference(account, storeID, id)
	users, err := s.Meta.ReadSetCountByReference(ctx, account, arn)
	if err == nil && users > 0 {
		ref.Status = from // back to ACTIVE; a delete cut short stays DELETING
		if err = s.Meta.ReferenceUpdate(ctx, ref); err == nil {
			return seqstore.Errorf(seqstore.CodeConflict, "reference %s is used by %d read set(s); delete them first (ListReadSets with filter.referenceArn finds them)", id, users)
		}
	}
	if err != nil {
		return err
	}
	s.deleteFiles(ctx, ref.Files)
	if err := s.Meta.TagsDeleteAll(ctx, account, arn); err != nil {
		return err
	}
	ref.Status, ref.Files, ref.UpdatedAt = seqstore.ReferenceStatusDeleted, nil, s.now()
	if err := s.Meta.ReferenceUpdate(ctx, ref); err != nil {
		return err
	}
	s.Log.InfoContext(ctx, "reference deleted", "account", account, "store", storeID, "reference", id)
	return nil
}

// OpenFileRange reads length bytes from offset of one file of an ACTIVE
// reference, through the object store GetReference reads. The caller has
// checked the range.
func (s *Service) OpenFileRange(ctx context.Context, ref *seqstore.Reference, f seqstore.StoredFile, offset, length int64) (io.ReadCloser, error) {
	if ref.Status != seqstore.ReferenceStatusActive {
		return nil, seqstore.Errorf(seqstore.CodeNotFound, "reference %s is %s: its files are deleted", ref.ID, ref.Status)
	}
	return s.Blobs.NewRangeReader(ctx, f.Key, offset, length)
}
