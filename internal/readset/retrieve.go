package readset

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

// Get returns a read set's metadata. Read sets already deleted are gone.
func (s *Service) Get(ctx context.Context, account, storeID, id string) (*seqstore.ReadSet, error) {
	if _, err := s.store(ctx, account, storeID); err != nil {
		return nil, err
	}
	rs, err := s.Meta.ReadSetGet(ctx, account, storeID, id)
	if errors.Is(err, meta.ErrNotFound) || (err == nil && rs.Status == seqstore.ReadSetStatusDeleted) {
		return nil, seqstore.Errorf(seqstore.CodeNotFound, "read set %s does not exist in sequence store %s", id, storeID)
	}
	return rs, err
}

// List lists a store's read sets.
func (s *Service) List(ctx context.Context, account, storeID string, f meta.ReadSetFilter, p meta.Page) ([]*seqstore.ReadSet, string, error) {
	if _, err := s.store(ctx, account, storeID); err != nil {
		return nil, "", err
	}
	return s.Meta.ReadSetList(ctx, account, storeID, f, p)
}

// Part is one part of a stored file, ready to stream.
type Part struct {
	Body   io.ReadCloser
	Length int64
}

// GetPart opens part number (1-based) of a read set's file: the bytes
// [(number-1)*partSize, min(number*partSize, contentLength)).
func (s *Service) GetPart(ctx context.Context, account, storeID, id, file string, number int) (*Part, error) {
	rs, err := s.Get(ctx, account, storeID, id)
	if err != nil {
		return nil, err
	}
	if rs.Status == seqstore.ReadSetStatusArchived {
		return nil, archivedError(id)
	}
	if rs.Status != seqstore.ReadSetStatusActive {
		msg := "read set %s is %s; only ACTIVE read sets can be read"
		if rs.Status == seqstore.ReadSetStatusProcessingUpload {
			msg += " (ingestion is still running: poll GetReadSetMetadata until it is ACTIVE)"
		}
		return nil, seqstore.Errorf(seqstore.CodeConflict, msg, id, rs.Status)
	}
	if file == "" {
		file = seqstore.FileSource1
	}
	f, ok := rs.File(file)
	if !ok {
		return nil, seqstore.Errorf(seqstore.CodeNotFound, "read set %s has no %s file", id, file)
	}
	total := f.TotalParts()
	if number < 1 || number > total {
		return nil, seqstore.Errorf(seqstore.CodeRangeNotSatisfiable, "part %d is out of range: file %s of read set %s has %d part(s)", number, file, id, total)
	}
	off := int64(number-1) * f.PartSize
	n := min(f.PartSize, f.ContentLength-off)
	body, err := s.Blobs.NewRangeReader(ctx, f.Key, off, n)
	if err != nil {
		return nil, err
	}
	s.touch(ctx, rs)
	return &Part{Body: body, Length: n}, nil
}

// DeleteError reports why one read set of a batch was not deleted.
type DeleteError struct {
	ID      string
	Code    string
	Message string
}

// BatchDelete deletes read sets, reporting per ID what could not be deleted.
// Their stored files are removed before their records, so a crash leaves at
// worst a DELETING record whose files are already gone.
func (s *Service) BatchDelete(ctx context.Context, account, storeID string, ids []string) ([]DeleteError, error) {
	if _, err := s.store(ctx, account, storeID); err != nil {
		return nil, err
	}
	var errs []DeleteError
	for _, id := range ids {
		if err := s.deleteOne(ctx, account, storeID, id); err != nil {
			var se *seqstore.Error
			if !errors.As(err, &se) {
				return nil, err
			}
			errs = append(errs, DeleteError{ID: id, Code: string(se.Code), Message: se.Message})
		}
	}
	return errs, nil
}

func (s *Service) deleteOne(ctx context.Context, account, storeID, id string) error {
	rs, err := s.Meta.ReadSetGet(ctx, account, storeID, id)
	if errors.Is(err, meta.ErrNotFound) || (err == nil && rs.Status == seqstore.ReadSetStatusDeleted) {
		return seqstore.Errorf(seqstore.CodeNotFound, "The specified readset does not exist.")
	}
	if err != nil {
		return err
	}
	from := rs.Status
	if from != seqstore.ReadSetStatusDeleting {
		next := *rs
		next.Status = seqstore.ReadSetStatusDeleting
		next.UpdatedAt = s.now()
		if err := s.Meta.ReadSetUpdate(ctx, &next, from); err != nil {
			if errors.Is(err, meta.ErrConflict) {
				return seqstore.Errorf(seqstore.CodeConflict, "read set %s changed status while being deleted; try again", id)
			}
			return err
		}
	}
	s.deleteCopies(ctx, rs)
	if rs.UploadID != "" {
		s.deleteParts(ctx, rs.UploadID)
	}
	if err := s.Meta.TagsDeleteAll(ctx, account, s.ARN.ReadSet(account, storeID, id)); err != nil {
		return err
	}
	if s.DeletedRetention > 0 {
		// The record stays, without files, until the purge removes it.
		gone := *rs
		gone.Status = seqstore.ReadSetStatusDeleted
		gone.StatusMessage = ""
		gone.Files, gone.SourceParts = nil, nil
		gone.UpdatedAt = s.now()
		if err := s.Meta.ReadSetUpdate(ctx, &gone, seqstore.ReadSetStatusDeleting); err != nil && !errors.Is(err, meta.ErrNotFound) {
			return err
		}
	} else if err := s.Meta.ReadSetDelete(ctx, account, storeID, id); err != nil && !errors.Is(err, meta.ErrNotFound) {
		return err
	}
	s.Log.InfoContext(ctx, "read set deleted", "account", account, "store", storeID, "readSet", id)
	return nil
}

// PurgeDeleted removes the records of read sets deleted more than
// DeletedRetention ago, and says how many it removed.
func (s *Service) PurgeDeleted(ctx context.Context) (int64, error) {
	if s.DeletedRetention <= 0 {
		return 0, nil
	}
	n, err := s.Meta.ReadSetsPurgeDeleted(ctx, s.now().Add(-s.DeletedRetention))
	if n > 0 {
		s.Log.InfoContext(ctx, "removed the records of deleted read sets", "readSets", n, "deletedRetention", s.DeletedRetention)
	}
	return n, err
}

// RunDeletedPurges purges every interval until ctx ends.
func (s *Service) RunDeletedPurges(ctx context.Context, interval time.Duration) {
	s.runEvery(ctx, interval, "removing the records of deleted read sets", func(ctx context.Context) error {
		_, err := s.PurgeDeleted(ctx)
		return err
	})
}

// runEvery runs task now and then every interval until ctx ends, logging
// a failure (of what) as a warning: the next round tries again.
func (s *Service) runEvery(ctx context.Context, interval time.Duration, what string, task func(context.Context) error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := task(ctx); err != nil && ctx.Err() == nil {
			s.Log.WarnContext(ctx, what+" failed; it runs again later", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// OpenFileRange reads length bytes from offset of one file of an ACTIVE
// read set, through the same (decrypting, for stores with an sseConfig)
// object store GetReadSet reads, and records the read for the archive
// clock as GetReadSet does. The caller has checked rs's status and the
// range.
func (s *Service) OpenFileRange(ctx context.Context, rs *seqstore.ReadSet, f seqstore.StoredFile, offset, length int64) (io.ReadCloser, error) {
	if rs.Status != seqstore.ReadSetStatusActive {
		return nil, seqstore.Errorf(seqstore.CodeConflict, "read set %s is %s; only ACTIVE read sets can be read", rs.ID, rs.Status)
	}
	body, err := s.Blobs.NewRangeReader(ctx, f.Key, offset, length)
	if err != nil {
		return nil, err
	}
	s.touch(ctx, rs)
	return body, nil
}
