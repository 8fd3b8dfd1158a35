package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/format/panics"
	"github.com/seqstore/seqstore/internal/meta"
)

// Handler does one item of a job of the kind it is registered for.
//
// Do must be idempotent: an item cut short (its node shut down, crashed or
// lost the lease) is done again from the start, perhaps on another node,
// perhaps after part of its work was already done and even after all of it
// was, when the node stopped between the work and its record. A handler
// that creates something therefore names it in advance (item.ReadSetID is
// chosen when the job starts) and finds it again rather than making a
// second one.
//
// Do returns nil when the item is done: the item is recorded FINISHED with
// the StatusMessage and ReadSetID that Do left in item. An error fails the
// item, and the error's text becomes its statusMessage, which a person
// reads: say what was wrong with the request and what to do about it, in
// at most MaxStatusMessage characters (longer text is cut). A panic fails
// the item with an internal-error message. When ctx ends (the node shuts
// down or lost the lease) Do should stop soon and return ctx's error; then
// nothing is recorded and the item is done again later.
type Handler interface {
	Do(ctx context.Context, job *seqstore.Job, item *seqstore.JobItem) error
}

// MaxStatusMessage is the longest statusMessage of a job item the API
// model allows, in characters.
const MaxStatusMessage = 127

// Items is the queue of job items, over the metadata store: a Runner with
// Items as its queue does the items of every job of the kinds in Handlers,
// Workers at once on each node.
//
// Jobs share the workers through the claim's fairness (meta.Jobs
// JobItemClaim): the items of accounts and jobs with the fewest items
// running go first, and among equals the account, then the job, served
// least recently. So a job of a thousand items and a job of one, started
// together, take turns on a node's workers, and the small one ends after
// about two claims, not a thousand.
type Items struct {
	Meta meta.Jobs
	// Handlers do the items of each job kind; the runner claims only
	// items of these kinds. Set it before the runner starts.
	Handlers map[string]Handler
	// MaxJobs, when above zero, is how many jobs run at once on all nodes
	// together: the items of a job started beyond it wait, and the job
	// stays SUBMITTED, until one of the running jobs ends.
	MaxJobs int
	Log     *slog.Logger
	Now     func() time.Time
}

var _ Queue = (*Items)(nil)

// Claim leases the next item of a kind with a handler.
func (q *Items) Claim(ctx context.Context, owner string, now, leaseUntil time.Time) (Task, error) {
	kinds := slices.Sorted(maps.Keys(q.Handlers))
	c, err := q.Meta.JobItemClaim(ctx, kinds, q.MaxJobs, owner, now, leaseUntil)
	if errors.Is(err, meta.ErrNotFound) {
		return nil, ErrNoWork
	}
	if err != nil {
		return nil, err
	}
	return &itemTask{q: q, claim: c, owner: owner}, nil
}

func (q *Items) log() *slog.Logger {
	if q.Log != nil {
		return q.Log
	}
	return slog.Default()
}

func (q *Items) now() time.Time {
	if q.Now != nil {
		return q.Now().UTC()
	}
	return time.Now().UTC()
}

// itemTask is one claimed job item.
type itemTask struct {
	q     *Items
	claim *meta.JobClaim
	owner string
}

func (t *itemTask) Attempt() int { return t.claim.Attempt }

func (t *itemTask) Renew(ctx context.Context, leaseUntil time.Time) error {
	return t.q.Meta.JobItemRenew(ctx, t.claim.Item.JobID, t.claim.Item.Index, t.owner, leaseUntil)
}

func (t *itemTask) Release(ctx context.Context) error {
	return t.q.Meta.JobItemRelease(ctx, t.claim.Item.JobID, t.claim.Item.Index, t.owner)
}

func (t *itemTask) LogAttrs() []any {
	j := t.claim.Job
	return []any{"account", j.AccountID, "store", j.StoreID, "job", j.ID, "kind", j.Kind, "item", t.claim.Item.Index}
}

// Run does the item with its kind's handler and records how it ended.
func (t *itemTask) Run(ctx context.Context) {
	log := t.q.log().With(t.LogAttrs()...)
	item := *t.claim.Item
	err := t.do(ctx, &item)
	var pe *panics.Error
	switch {
	case errors.As(err, &pe):
		log.Error("a job item's handler panicked; failing the item", "panic", pe.Value, "stack", string(pe.Stack))
		t.end(ctx, log, &item, seqstore.JobItemStatusFailed, internalErrorMessage)
	case err == nil:
		t.end(ctx, log, &item, seqstore.JobItemStatusFinished, item.StatusMessage)
	case ctx.Err() != nil:
		log.Info("job item interrupted; it will be done again", "err", err)
	default:
		t.end(ctx, log, &item, seqstore.JobItemStatusFailed, err.Error())
	}
}

// do runs the handler, turning its panic into an error.
func (t *itemTask) do(ctx context.Context, item *seqstore.JobItem) (err error) {
	defer panics.Recover(&err)
	h := t.q.Handlers[t.claim.Job.Kind]
	if h == nil {
		return fmt.Errorf("seqstore has no handler for jobs of kind %s", t.claim.Job.Kind)
	}
	job := *t.claim.Job
	return h.Do(ctx, &job, item)
}

// end records the item's end; the job ends with its last item. The record
// is written even if ctx ended after the work was done: it checks that this
// node still holds the lease.
func (t *itemTask) end(ctx context.Context, log *slog.Logger, item *seqstore.JobItem, status, message string) {
	item.Status, item.StatusMessage = status, truncate(message, MaxStatusMessage)
	if err := t.q.Meta.JobItemEnd(context.WithoutCancel(ctx), item, t.owner, t.q.now()); err != nil {
		log.Error("could not record the end of a job item; it will be done again", "status", status, "err", err)
		return
	}
	if status == seqstore.JobItemStatusFailed {
		log.Warn("job item failed", "statusMessage", item.StatusMessage)
		return
	}
	log.Info("job item finished", "readSet", item.ReadSetID)
}

// GiveUp fails an item that was claimed and abandoned too often.
func (t *itemTask) GiveUp(ctx context.Context, attempts int) {
	item := *t.claim.Item
	t.end(ctx, t.q.log().With(t.LogAttrs()...), &item, seqstore.JobItemStatusFailed, abandonedMessage(attempts))
}

// internalErrorMessage is the statusMessage of an item whose handler
// panicked: a fault of seqstore, not of the request. The panic itself is
// in the log.
const internalErrorMessage = "seqstore failed on an internal error doing this item; start the job again, and report it if it fails again"

func abandonedMessage(attempts int) string {
	return fmt.Sprintf("abandoned after %d attempts: the server stopped or crashed each time doing this item; report it if it fails again", attempts)
}

// truncate cuts s to at most n characters, ending it with "..." when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return string(runes[:n-3]) + "..."
}
