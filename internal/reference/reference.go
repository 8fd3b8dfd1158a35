// Package reference runs the life of a reference genome: the import job
// that brings a FASTA file in, checks it in one pass and stores it with its
// .fai index and per-sequence digests, the retrieval that serves both files
// back in parts, and the delete that refuses while a read set still names
// the reference. A reference exists only once its files are durably
// written: an import that fails leaves no reference behind.
//
// It knows the FASTA format only through package fasta and compression
// through package compress, and storage only through the meta and blob
// interfaces.
package reference

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/arn"
	"github.com/seqstore/seqstore/internal/blob"
	"github.com/seqstore/seqstore/internal/meta"
)

// PartSize is the part size GetReference serves files in.
const PartSize = 100 << 20

// Sources are where import jobs read FASTA files (package location):
// s3:// objects and file:// paths, each checked against what the account
// may reach.
type Sources interface {
	// CheckRead judges a URI without reading a byte: a malformed one is a
	// validation error, one the account may not reach is refused
	// (CodeAccessDenied).
	CheckRead(ctx context.Context, accountID, uri string) error
	Open(ctx context.Context, accountID, uri string) (io.ReadCloser, error)
}

// Service carries what the reference operations need.
type Service struct {
	Meta  meta.Store
	Blobs blob.Store
	ARN   arn.Builder
	Log   *slog.Logger
	Now   func() time.Time
	// Sources are where import jobs read; nil refuses imports.
	Sources Sources
	// WakeJobs, when set, is poked after a job starts so the local job
	// runner takes its items at once instead of at its next poll.
	WakeJobs func()
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// store checks that the account has the reference store.
func (s *Service) store(ctx context.Context, account, storeID string) error {
	_, err := s.Meta.ReferenceStoreGet(ctx, account, storeID)
	if errors.Is(err, meta.ErrNotFound) {
		return seqstore.Errorf(seqstore.CodeNotFound, "reference store %s does not exist in this account", storeID)
	}
	return err
}
