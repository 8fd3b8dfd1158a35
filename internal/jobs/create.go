package jobs

import (
	"context"
	"errors"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

// Create stores a new job under an ID from newID, drawing another while the
// ID is taken (a collision of random IDs). Other errors are the metadata
// store's: meta.ErrNotFound when the job's store does not exist.
func Create(ctx context.Context, m meta.Jobs, j *seqstore.Job, newID func() string) error {
	var err error
	for range 8 {
		j.ID = newID()
		if err = m.JobCreate(ctx, j); !errors.Is(err, meta.ErrConflict) {
			return err
		}
	}
	return err
}
