package readset

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/jobs"
	"github.com/seqstore/seqstore/internal/meta"
)

// Ingester turns read sets in PROCESSING_UPLOAD into ACTIVE or UPLOAD_FAILED
// ones. Any number of ingesters, on any number of nodes, may share one
// metadata store: each read set is leased to one of them at a time, and a
// lease that is not renewed (its node died) lets another pick the read set
// up and start again from the parts, which stay until ingestion ends. The
// claiming, leasing and giving up are package jobs' Runner, over a queue of
// the read sets awaiting ingestion.
type Ingester struct {
	*Service
	// Owner names this ingester in leases (host and process).
	Owner string
	// Lease is how long a claim holds without renewal.
	Lease time.Duration
	// Poll is how often to look for work when not woken.
	Poll time.Duration
	// Workers is how many read sets are ingested at once.
	Workers int
	// MaxAttempts is how many times a read set's ingestion may be started
	// and abandoned (its node crashed, hung or was killed) before the read
	// set fails instead of being claimed again: an upload that brings down
	// its node would otherwise bring it down at every restart.
	MaxAttempts int

	runner *jobs.Runner
	once   sync.Once
}

func (in *Ingester) init() {
	in.once.Do(func() {
		if in.MaxAttempts == 0 {
			in.MaxAttempts = DefaultIngestAttempts
		}
		in.runner = &jobs.Runner{
			Name:        "read set ingestion",
			Queue:       ingestQueue{in},
			Owner:       in.Owner,
			Lease:       in.Lease,
			Poll:        in.Poll,
			Workers:     in.Workers,
			MaxAttempts: in.MaxAttempts,
			Log:         in.Log,
			Now:         in.now,
		}
	})
}

// DefaultIngestAttempts is Ingester.MaxAttempts unless set.
const DefaultIngestAttempts = jobs.DefaultMaxAttempts

// Wake tells the ingester that work may be waiting.
func (in *Ingester) Wake() {
	in.init()
	in.runner.Wake()
}

// Run ingests until ctx ends. A read set being ingested when ctx ends is left
// in PROCESSING_UPLOAD, its lease given back, for the next start (or another
// node) to redo.
func (in *Ingester) Run(ctx context.Context) {
	in.init()
	in.runner.Run(ctx)
}

// ingestQueue is the queue of read sets awaiting ingestion.
type ingestQueue struct{ in *Ingester }

func (q ingestQueue) Claim(ctx context.Context, owner string, now, leaseUntil time.Time) (jobs.Task, error) {
	rs, attempt, err := q.in.Meta.IngestClaim(ctx, owner, now, leaseUntil)
	if errors.Is(err, meta.ErrNotFound) {
		return nil, jobs.ErrNoWork
	}
	if err != nil {
		return nil, err
	}
	return &ingestTask{in: q.in, rs: rs, attempt: attempt, owner: owner}, nil
}

// ingestTask is the ingestion of one claimed read set.
type ingestTask struct {
	in      *Ingester
	rs      *seqstore.ReadSet
	attempt int
	owner   string
}

func (t *ingestTask) Attempt() int { return t.attempt }

func (t *ingestTask) Renew(ctx context.Context, leaseUntil time.Time) error {
	return t.in.Meta.IngestRenew(ctx, t.rs.AccountID, t.rs.StoreID, t.rs.ID, t.owner, leaseUntil)
}

func (t *ingestTask) Release(ctx context.Context) error {
	return t.in.Meta.IngestRelease(ctx, t.rs.AccountID, t.rs.StoreID, t.rs.ID, t.owner)
}

func (t *ingestTask) Run(ctx context.Context) { t.in.Ingest(ctx, t.rs) }

func (t *ingestTask) LogAttrs() []any {
	return []any{"account", t.rs.AccountID, "store", t.rs.StoreID, "readSet", t.rs.ID, "fileType", t.rs.FileType}
}

// GiveUp fails a read set whose ingestion was started and abandoned more
// often than MaxAttempts allows.
func (t *ingestTask) GiveUp(ctx context.Context, abandoned int) {
	if err := t.in.fail(ctx, t.in.Log.With(t.LogAttrs()...), t.rs, fmt.Sprintf("ingestion was started %d times and never finished: the server stopped or crashed while reading this upload each time; "+
		"check the file, upload it again, and report it if it fails again", abandoned)); err == nil {
		t.in.deleteParts(context.WithoutCancel(ctx), t.rs.UploadID)
	}
}
