package readset

import (
	"context"
	"errors"
	"io"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/jobs"
	"github.com/seqstore/seqstore/internal/location"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/service"
)

// Locations are where import jobs read their sources and export jobs write
// their files (package location): s3:// objects and file:// paths, each
// checked against what the account may reach.
type Locations interface {
	// CheckRead and CheckWrite judge a URI or prefix without reading or
	// writing a byte: a malformed one is a validation error, one outside
	// what the account may reach is refused (CodeAccessDenied).
	CheckRead(ctx context.Context, accountID, uri string) error
	CheckWrite(ctx context.Context, accountID, prefix string) error
	Open(ctx context.Context, accountID, uri string) (io.ReadCloser, error)
	// CreateTagged writes a file of a known size, which lets an S3
	// multipart upload choose parts large enough for it, with tags that
	// an S3 object carries as its object tags.
	CreateTagged(ctx context.Context, accountID, uri string, size int64, tags map[string]string) (location.Writer, error)
}

// Job limits of the model.
const (
	// MaxImportSources is the most sources one import job takes.
	MaxImportSources = 100
	// MaxExportReadSets is the most read sets one export job takes.
	MaxExportReadSets = 100
)

// createJob stores a new job under a fresh ID and wakes the job runner.
func (s *Service) createJob(ctx context.Context, j *seqstore.Job) error {
	err := jobs.Create(ctx, s.Meta, j, service.NewID)
	if errors.Is(err, meta.ErrNotFound) {
		return seqstore.Errorf(seqstore.CodeNotFound, "sequence store %s does not exist in this account", j.StoreID)
	}
	if err != nil {
		return err
	}
	if s.WakeJobs != nil {
		s.WakeJobs()
	}
	return nil
}

// job returns a job of a kind in a store, or a not-found error naming it.
func (s *Service) job(ctx context.Context, account, storeID, kind, id string) (*seqstore.Job, error) {
	if _, err := s.store(ctx, account, storeID); err != nil {
		return nil, err
	}
	j, err := s.Meta.JobGet(ctx, account, storeID, kind, id)
	if errors.Is(err, meta.ErrNotFound) {
		return nil, seqstore.Errorf(seqstore.CodeNotFound, "job %s does not exist in sequence store %s", id, storeID)
	}
	return j, err
}

// listJobs lists a store's jobs of a kind.
func (s *Service) listJobs(ctx context.Context, account, storeID, kind string, f meta.JobFilter, p meta.Page) ([]*seqstore.Job, string, error) {
	if _, err := s.store(ctx, account, storeID); err != nil {
		return nil, "", err
	}
	if f.Status != "" && !seqstore.JobStatusValid(f.Status) {
		return nil, "", seqstore.Errorf(seqstore.CodeValidation, "filter.status %q is not a job status", f.Status)
	}
	return s.Meta.JobList(ctx, account, storeID, kind, f, p)
}

// itemError is err as a job item's statusMessage shows it: a domain
// error's message without its code, which the 127 characters the model
// allows cannot spare.
func itemError(err error) error {
	var se *seqstore.Error
	if errors.As(err, &se) {
		return errors.New(se.Message)
	}
	return err
}
