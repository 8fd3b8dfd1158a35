package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/seqstore/seqstore/internal/format/panics"
)

// ErrNoWork is what Queue.Claim returns when nothing is waiting.
var ErrNoWork = errors.New("jobs: no work waiting")

// Queue hands out work under leases. Any number of runners, on any number
// of nodes, may claim from one queue: a task is leased to one of them at a
// time.
type Queue interface {
	// Claim leases one task to owner until leaseUntil, counting the claim
	// as an attempt; ErrNoWork when there is none. now is the time the
	// queue judges other leases by.
	Claim(ctx context.Context, owner string, now, leaseUntil time.Time) (Task, error)
}

// Task is one claimed piece of work and its lease.
type Task interface {
	// Attempt is how often the task has been claimed, this claim
	// included, less the claims given back with Release. A task claimed
	// again and again was abandoned each time: its node crashed or hung.
	Attempt() int
	// Renew extends the lease to leaseUntil; an error means the lease is
	// lost (another owner took it, or the task ended meanwhile).
	Renew(ctx context.Context, leaseUntil time.Time) error
	// Release gives the lease, and the attempt it counted, back at once,
	// for work stopped by a shutdown rather than by the task.
	Release(ctx context.Context) error
	// Run does the work and records its outcome. ctx ends when the runner
	// shuts down or the lease is lost; Run then returns without recording
	// anything, and the task is claimed again (here after a restart, or
	// by another node). Run must therefore be safe to run again from the
	// start on work that was cut short.
	Run(ctx context.Context)
	// GiveUp records that the task was abandoned attempts times, more than
	// the runner allows, instead of running it again: work that brings
	// down its node would otherwise do so at every restart.
	GiveUp(ctx context.Context, attempts int)
	// LogAttrs name the task in log lines (slog key-value pairs).
	LogAttrs() []any
}

// Runner defaults, for fields left zero.
const (
	DefaultLease       = time.Minute
	DefaultPoll        = 2 * time.Second
	DefaultWorkers     = 1
	DefaultMaxAttempts = 3
)

// Runner claims tasks from a queue and runs them, Workers at a time, each
// under a lease it renews every Lease/3 for as long as the task runs. It
// looks for work every Poll, and at once after Wake.
type Runner struct {
	// Name says in log lines what the runner runs ("ingestion", "job item").
	Name  string
	Queue Queue
	// Owner names this runner in leases; by default the host and process.
	Owner string
	// Lease is how long a claim holds without renewal: how long another
	// node waits before taking over the work of one that stopped.
	Lease time.Duration
	// Poll is how often to look for work when not woken.
	Poll time.Duration
	// Workers is how many tasks run at once.
	Workers int
	// MaxAttempts is how many times a task may be claimed and abandoned
	// before it is given up (Task.GiveUp) instead of run again.
	MaxAttempts int
	Log         *slog.Logger
	Now         func() time.Time

	wake chan struct{}
	once sync.Once
}

func (r *Runner) init() {
	r.once.Do(func() {
		r.wake = make(chan struct{}, 1)
		if r.Lease == 0 {
			r.Lease = DefaultLease
		}
		if r.Poll == 0 {
			r.Poll = DefaultPoll
		}
		if r.Workers == 0 {
			r.Workers = DefaultWorkers
		}
		if r.MaxAttempts == 0 {
			r.MaxAttempts = DefaultMaxAttempts
		}
		if r.Owner == "" {
			r.Owner = DefaultOwner()
		}
		if r.Log == nil {
			r.Log = slog.Default()
		}
		if r.Name == "" {
			r.Name = "task"
		}
	})
}

// DefaultOwner names this process in leases: its host and process ID.
func DefaultOwner() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

// Wake tells the runner that work may be waiting, so that an idle worker
// claims it now rather than at its next poll.
func (r *Runner) Wake() {
	r.init()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run runs tasks until ctx ends, and returns when every worker has
// stopped. A task running when ctx ends is stopped and released for the
// next start (or another node) to run again.
func (r *Runner) Run(ctx context.Context) {
	r.init()
	var wg sync.WaitGroup
	for range r.Workers {
		wg.Go(func() { r.loop(ctx) })
	}
	wg.Wait()
}

// loop is one worker: it claims and runs tasks until none is waiting, then
// waits for a wake or the next poll.
func (r *Runner) loop(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-timer.C:
		}
		for ctx.Err() == nil {
			now := r.now()
			task, err := r.Queue.Claim(ctx, r.Owner, now, now.Add(r.Lease))
			if errors.Is(err, ErrNoWork) {
				break
			}
			if err != nil {
				if ctx.Err() == nil {
					r.Log.Error("could not claim a "+r.Name+" to run", "err", err)
				}
				break
			}
			if attempt := task.Attempt(); attempt > r.MaxAttempts {
				r.Log.Error(r.Name+" was abandoned too often; giving it up",
					append(task.LogAttrs(), "attempts", attempt-1, "maxAttempts", r.MaxAttempts)...)
				r.guard(task, "giving up", func() { task.GiveUp(ctx, attempt-1) })
				continue
			}
			r.runLeased(ctx, task)
		}
		timer.Reset(r.Poll)
	}
}

// runLeased runs a claimed task while renewing its lease. A shutdown midway
// gives the lease, and the attempt, back at once, so the next start (or
// another node) need not wait for it to run out.
func (r *Runner) runLeased(parent context.Context, task Task) {
	ctx, cancel := context.WithCancel(parent)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		r.guard(task, "renewing the lease", func() { r.renew(ctx, cancel, task) })
		// A panic renewing, in the queue, stops the task as if its
		// lease were lost.
		cancel()
	}()
	r.Log.Debug("claimed a "+r.Name, append(task.LogAttrs(), "attempt", task.Attempt())...)
	r.guard(task, "running", func() { task.Run(ctx) })
	cancel()
	<-renewed
	if parent.Err() != nil {
		if err := task.Release(context.WithoutCancel(parent)); err != nil {
			r.Log.Warn("could not give back the lease of a "+r.Name+" stopped by the shutdown; it is claimed again when the lease runs out",
				append(task.LogAttrs(), "err", err)...)
		}
	}
}

// renew renews task's lease every Lease/3 until ctx ends, and cancels ctx
// when the lease is lost.
func (r *Runner) renew(ctx context.Context, cancel context.CancelFunc, task Task) {
	t := time.NewTicker(r.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := task.Renew(ctx, r.now().Add(r.Lease)); err != nil {
				if ctx.Err() == nil {
					r.Log.Warn("lost the lease of a "+r.Name+"; stopping it", append(task.LogAttrs(), "err", err)...)
				}
				cancel()
				return
			}
		}
	}
}

// guard runs do and turns a panic in it into a log line, so that a fault of
// one task never ends the process. A task whose Run panics is left as it
// is: its lease runs out, it is claimed again, and after MaxAttempts it is
// given up.
func (r *Runner) guard(task Task, doing string, do func()) {
	err := func() (err error) {
		defer panics.Recover(&err)
		do()
		return nil
	}()
	var pe *panics.Error
	if errors.As(err, &pe) {
		r.Log.Error(r.Name+" panicked while "+doing, append(task.LogAttrs(), "panic", pe.Value, "stack", string(pe.Stack))...)
	}
}
