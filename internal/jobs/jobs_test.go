package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/meta/sqlmeta"
	"github.com/seqstore/seqstore/internal/testutil/leak"
	"github.com/seqstore/seqstore/internal/testutil/pgtest"
)

const testAccount = "111111111111"

// drivers are the metadata stores the engine runs on.
var drivers = []struct {
	name string
	open func(t *testing.T) meta.Store
}{
	{"SQLite", func(t *testing.T) meta.Store {
		return openStore(t, filepath.Join(t.TempDir(), "meta.db"), sqlmeta.OpenSQLite)
	}},
	{"PostgreSQL", func(t *testing.T) meta.Store {
		return openStore(t, pgtest.NewSchemaDSN(t), sqlmeta.OpenPostgres)
	}},
}

func openStore(t *testing.T, where string, open func(context.Context, string) (*sqlmeta.Store, error)) meta.Store {
	t.Helper()
	s, err := open(context.Background(), where)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// forEachDriver runs test once on each metadata store.
func forEachDriver(t *testing.T, test func(t *testing.T, e *env)) {
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			test(t, newEnv(t, d.open(t)))
		})
	}
}

// env is a metadata store with one sequence store to make jobs in.
type env struct {
	t     *testing.T
	ctx   context.Context
	db    meta.Store
	store string
	next  int
}

func newEnv(t *testing.T, db meta.Store) *env {
	e := &env{t: t, ctx: context.Background(), db: db, store: "9000000001"}
	now := time.Now().UTC()
	if err := db.SequenceStoreCreate(e.ctx, &seqstore.SequenceStore{AccountID: testAccount, ID: e.store, Name: "s",
		ETagAlgorithmFamily: "MD5up", Status: seqstore.StoreStatusActive, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	return e
}

// spec tells the scripted handler what to do with an item.
type spec struct {
	Do      string // finish, fail, panic, block, hold, pair
	Message string
	ReadSet string
}

// createJob stores a job of the kind whose items follow the specs.
func (e *env) createJob(kind string, specs ...spec) *seqstore.Job {
	e.t.Helper()
	e.next++
	j := &seqstore.Job{AccountID: testAccount, StoreID: e.store, ID: fmt.Sprintf("%010d", 5000000000+e.next), Kind: kind,
		CreatedAt: time.Now().UTC().Add(time.Duration(e.next) * time.Millisecond)}
	for _, s := range specs {
		b, err := json.Marshal(s)
		if err != nil {
			e.t.Fatal(err)
		}
		j.Items = append(j.Items, seqstore.JobItem{Spec: b})
	}
	if err := e.db.JobCreate(e.ctx, j); err != nil {
		e.t.Fatal(err)
	}
	return j
}

// get reads a job back.
func (e *env) get(j *seqstore.Job) *seqstore.Job {
	e.t.Helper()
	got, err := e.db.JobGet(e.ctx, j.AccountID, j.StoreID, j.Kind, j.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// waitEnd polls the job until it ends.
func (e *env) waitEnd(j *seqstore.Job) *seqstore.Job {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := e.get(j)
		if seqstore.JobStatusTerminal(got.Status) {
			return got
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("job %s is still %s: %+v", j.ID, got.Status, got.Items)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// scripted is a handler that does what each item's spec says.
type scripted struct {
	started chan string // an item key, when a block or hold item starts
	mu      sync.Mutex
	calls   []string // item keys in the order Do was called
	running atomic.Int32
	most    atomic.Int32 // the most items running at once
}

func newScripted() *scripted { return &scripted{started: make(chan string, 100)} }

func itemKey(item *seqstore.JobItem) string { return fmt.Sprintf("%s/%d", item.JobID, item.Index) }

func (h *scripted) Do(ctx context.Context, job *seqstore.Job, item *seqstore.JobItem) error {
	var s spec
	if err := json.Unmarshal(item.Spec, &s); err != nil {
		return fmt.Errorf("the item's spec is not JSON: %w", err)
	}
	h.mu.Lock()
	h.calls = append(h.calls, itemKey(item))
	h.mu.Unlock()
	n := h.running.Add(1)
	defer h.running.Add(-1)
	for m := h.most.Load(); n > m && !h.most.CompareAndSwap(m, n); m = h.most.Load() {
	}
	switch s.Do {
	case "finish":
		item.ReadSetID, item.StatusMessage = s.ReadSet, s.Message
		return nil
	case "fail":
		return errors.New(s.Message)
	case "panic":
		panic("scripted panic in " + itemKey(item))
	case "block":
		h.started <- itemKey(item)
		<-ctx.Done()
		return ctx.Err()
	case "hold":
		h.started <- itemKey(item)
		time.Sleep(10 * time.Millisecond)
		return nil
	case "pair":
		// Wait until another item runs beside this one, for a while.
		for deadline := time.Now().Add(5 * time.Second); h.most.Load() < 2 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		return nil
	}
	return fmt.Errorf("unknown action %q", s.Do)
}

func (h *scripted) callOrder() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.calls...)
}

// finishAll finishes every item, whatever its spec.
type finishAll struct{ done atomic.Int32 }

func (h *finishAll) Do(ctx context.Context, job *seqstore.Job, item *seqstore.JobItem) error {
	h.done.Add(1)
	item.StatusMessage = "finished by the second node"
	return nil
}

// newRunner makes a runner of import items with h, short leases and polls.
func (e *env) newRunner(owner string, h Handler) *Runner {
	log := slog.New(slog.NewTextHandler(testWriter{e.t}, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", owner)
	return &Runner{
		Name:    "job item",
		Queue:   &Items{Meta: e.db, Handlers: map[string]Handler{seqstore.JobKindReadSetImport: h}, Log: log},
		Owner:   owner,
		Lease:   300 * time.Millisecond,
		Poll:    10 * time.Millisecond,
		Workers: 1,
		Log:     log,
	}
}

// testWriter writes log lines to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// start runs r until the test ends or stop is called; stop returns when Run
// has returned, and checks that no goroutine of the runner is left.
func start(t *testing.T, r *Runner) (stop func()) {
	t.Helper()
	check := leak.Check(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
			check()
		})
	}
	t.Cleanup(stop)
	return stop
}

// wait waits for a value on ch.
func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func TestItemsEndAsTheirHandlersSay(t *testing.T) {
	long := strings.Repeat("the source s3://bucket/key is not a FASTQ file ", 5)
	forEachDriver(t, func(t *testing.T, e *env) {
		mixed := e.createJob(seqstore.JobKindReadSetImport,
			spec{Do: "finish", ReadSet: "1234567890", Message: "imported"},
			spec{Do: "fail", Message: "the source s3://b/k does not exist; check the URI"},
			spec{Do: "panic"},
			spec{Do: "fail", Message: long},
			spec{Do: "finish"},
		)
		good := e.createJob(seqstore.JobKindReadSetImport, spec{Do: "finish"}, spec{Do: "finish"})
		bad := e.createJob(seqstore.JobKindReadSetImport, spec{Do: "fail", Message: "no"}, spec{Do: "panic"})
		h := newScripted()
		before := time.Now().UTC().Add(-time.Second)
		start(t, e.newRunner("node-1", h))

		got := e.waitEnd(mixed)
		if got.Status != seqstore.JobStatusCompletedWithFailures {
			t.Errorf("mixed job: status %s, want %s", got.Status, seqstore.JobStatusCompletedWithFailures)
		}
		if got.CompletedAt.Before(before) || got.CompletedAt.After(time.Now().Add(time.Second)) {
			t.Errorf("mixed job: completion time %v, want about now", got.CompletedAt)
		}
		truncated := []rune(long)[:MaxStatusMessage-3]
		want := []struct{ status, message, readSet string }{
			{seqstore.JobItemStatusFinished, "imported", "1234567890"},
			{seqstore.JobItemStatusFailed, "the source s3://b/k does not exist; check the URI", ""},
			{seqstore.JobItemStatusFailed, internalErrorMessage, ""},
			{seqstore.JobItemStatusFailed, string(truncated) + "...", ""},
			{seqstore.JobItemStatusFinished, "", ""},
		}
		for i, w := range want {
			it := got.Items[i]
			if it.Status != w.status || it.StatusMessage != w.message || it.ReadSetID != w.readSet {
				t.Errorf("item %d: %s %q %q, want %s %q %q", i, it.Status, it.StatusMessage, it.ReadSetID, w.status, w.message, w.readSet)
			}
			if n := utf8.RuneCountInString(it.StatusMessage); n > MaxStatusMessage {
				t.Errorf("item %d: statusMessage of %d characters", i, n)
			}
		}
		if got := e.waitEnd(good).Status; got != seqstore.JobStatusCompleted {
			t.Errorf("job of finished items: %s", got)
		}
		if got := e.waitEnd(bad).Status; got != seqstore.JobStatusFailed {
			t.Errorf("job of failed items: %s", got)
		}
	})
}

func TestMessagesFitTheModel(t *testing.T) {
	for _, m := range []string{internalErrorMessage, abandonedMessage(1000)} {
		if n := utf8.RuneCountInString(m); n > MaxStatusMessage {
			t.Errorf("%q has %d characters, more than %d", m, n, MaxStatusMessage)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"short", "short"},
		{strings.Repeat("é", MaxStatusMessage), strings.Repeat("é", MaxStatusMessage)},
		{strings.Repeat("é", MaxStatusMessage+1), strings.Repeat("é", MaxStatusMessage-3) + "..."},
	} {
		if got := truncate(c.in, MaxStatusMessage); got != c.want {
			t.Errorf("truncate(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestShutdownReleasesTheItemForTheNextClaim(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *env) {
		j := e.createJob(seqstore.JobKindReadSetImport, spec{Do: "block"})
		h := newScripted()
		stop := start(t, e.newRunner("node-1", h))
		wait(t, h.started, "the item to start")
		stop()
		// The lease is free at once, and the attempt was taken back.
		now := time.Now()
		c, err := e.db.JobItemClaim(e.ctx, []string{seqstore.JobKindReadSetImport}, 0, "node-2", now, now.Add(time.Minute))
		if err != nil {
			t.Fatalf("claim right after the shutdown: %v", err)
		}
		if c.Item.JobID != j.ID || c.Attempt != 1 {
			t.Errorf("claimed item %s/%d at attempt %d, want %s/0 at attempt 1", c.Item.JobID, c.Item.Index, c.Attempt, j.ID)
		}
		if got := e.get(j).Status; got != seqstore.JobStatusInProgress {
			t.Errorf("job status after the shutdown: %s", got)
		}
	})
}

func TestLostLeaseStopsTheHandlerAndRecordsNothing(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *env) {
		j := e.createJob(seqstore.JobKindReadSetImport, spec{Do: "block"})
		h := newScripted()
		start(t, e.newRunner("node-1", h))
		wait(t, h.started, "the item to start")
		// A node whose clock runs an hour ahead sees the lease run out
		// and takes the item over; node-1's next renewal fails.
		second := &finishAll{}
		r2 := e.newRunner("node-2", second)
		r2.Now = func() time.Time { return time.Now().Add(time.Hour) }
		start(t, r2)
		got := e.waitEnd(j)
		if got.Status != seqstore.JobStatusCompleted || got.Items[0].StatusMessage != "finished by the second node" {
			t.Fatalf("job %s, item %+v; want it finished by node-2", got.Status, got.Items[0])
		}
		// node-1's handler was stopped (running drops to 0) and it did
		// not overwrite node-2's record.
		deadline := time.Now().Add(10 * time.Second)
		for h.running.Load() != 0 {
			if time.Now().After(deadline) {
				t.Fatal("node-1's handler still runs after losing the lease")
			}
			time.Sleep(5 * time.Millisecond)
		}
		if got := e.get(j); got.Items[0].StatusMessage != "finished by the second node" || second.done.Load() != 1 {
			t.Errorf("after node-1 stopped: item %+v, node-2 did it %d times", got.Items[0], second.done.Load())
		}
	})
}

func TestAnotherRunnerTakesOverAnAbandonedItemWhenItsLeaseRunsOut(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *env) {
		j := e.createJob(seqstore.JobKindReadSetImport, spec{Do: "finish", Message: "done"})
		// A node claims the item and dies.
		lease := 500 * time.Millisecond
		claimed := time.Now()
		if _, err := e.db.JobItemClaim(e.ctx, []string{seqstore.JobKindReadSetImport}, 0, "dead-node", claimed, claimed.Add(lease)); err != nil {
			t.Fatal(err)
		}
		start(t, e.newRunner("node-2", newScripted()))
		got := e.waitEnd(j)
		if got.Status != seqstore.JobStatusCompleted || got.Items[0].StatusMessage != "done" {
			t.Fatalf("job %s, item %+v; want it finished", got.Status, got.Items[0])
		}
		if got.Items[0].UpdatedAt.Before(claimed.Add(lease).Truncate(time.Millisecond)) {
			t.Errorf("the item ended at %v, before the dead node's lease ran out at %v", got.Items[0].UpdatedAt, claimed.Add(lease))
		}
	})
}

func TestAnItemAbandonedTooOftenIsGivenUp(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *env) {
		j := e.createJob(seqstore.JobKindReadSetImport, spec{Do: "finish"})
		// Two nodes claimed the item in turn and died.
		past := time.Now().Add(-time.Hour)
		for i := range 2 {
			at := past.Add(time.Duration(i) * time.Minute)
			if _, err := e.db.JobItemClaim(e.ctx, []string{seqstore.JobKindReadSetImport}, 0, "dead-node", at, at.Add(time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		h := newScripted()
		r := e.newRunner("node-3", h)
		r.MaxAttempts = 2
		start(t, r)
		got := e.waitEnd(j)
		if got.Status != seqstore.JobStatusFailed || got.Items[0].StatusMessage != abandonedMessage(2) {
			t.Errorf("job %s, item %+v; want it failed as abandoned after 2 attempts", got.Status, got.Items[0])
		}
		if calls := h.callOrder(); len(calls) != 0 {
			t.Errorf("the handler was called for %v", calls)
		}
	})
}

// panickyItems is Items whose tasks panic in Run outside any handler, as a
// fault of the engine itself would.
type panickyItems struct{ *Items }

type panickyTask struct{ Task }

func (p panickyItems) Claim(ctx context.Context, owner string, now, leaseUntil time.Time) (Task, error) {
	t, err := p.Items.Claim(ctx, owner, now, leaseUntil)
	if err != nil {
		return nil, err
	}
	return panickyTask{t}, nil
}

func (panickyTask) Run(context.Context) { panic("a fault of the engine") }

func TestATaskThatPanicsIsRetriedAndThenGivenUpWithoutEndingTheProcess(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *env) {
		j := e.createJob(seqstore.JobKindReadSetImport, spec{Do: "finish"})
		r := e.newRunner("node-1", newScripted())
		r.Queue = panickyItems{r.Queue.(*Items)}
		r.Lease, r.MaxAttempts = 100*time.Millisecond, 2
		start(t, r)
		got := e.waitEnd(j)
		if got.Status != seqstore.JobStatusFailed || got.Items[0].StatusMessage != abandonedMessage(2) {
			t.Errorf("job %s, item %+v; want it failed as abandoned after 2 attempts", got.Status, got.Items[0])
		}
	})
}

func TestWorkersBoundTheItemsRunningAndJobsTakeTurns(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *env) {
		big := e.createJob(seqstore.JobKindReadSetImport, spec{Do: "hold"}, spec{Do: "hold"}, spec{Do: "hold"}, spec{Do: "hold"})
		small := e.createJob(seqstore.JobKindReadSetImport, spec{Do: "hold"}, spec{Do: "hold"})
		other := e.createJob(seqstore.JobKindReadSetExport, spec{Do: "hold"})

		h := newScripted()
		stop := start(t, e.newRunner("node-1", h))
		e.waitEnd(big)
		e.waitEnd(small)
		want := []string{big.ID + "/0", small.ID + "/0", big.ID + "/1", small.ID + "/1", big.ID + "/2", big.ID + "/3"}
		if got := h.callOrder(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("one worker did the items in the order %v, want %v", got, want)
		}
		if got := e.get(other).Status; got != seqstore.JobStatusSubmitted {
			t.Errorf("a job of a kind without a handler is %s, want it left SUBMITTED", got)
		}
		stop()

		wide := e.createJob(seqstore.JobKindReadSetImport, spec{Do: "pair"}, spec{Do: "pair"}, spec{Do: "pair"}, spec{Do: "pair"}, spec{Do: "pair"})
		h = newScripted()
		r := e.newRunner("node-2", h)
		r.Workers = 2
		start(t, r)
		e.waitEnd(wide)
		if most := h.most.Load(); most != 2 {
			t.Errorf("with 2 workers at most %d items ran at once, want 2", most)
		}
	})
}

func TestWakeStartsWorkBeforeTheNextPoll(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *env) {
		h := newScripted()
		r := e.newRunner("node-1", h)
		r.Poll = time.Hour
		start(t, r)
		// The first look for work finds none; then only Wake brings the
		// runner back before the hour is out.
		time.Sleep(100 * time.Millisecond)
		j := e.createJob(seqstore.JobKindReadSetImport, spec{Do: "finish"})
		r.Wake()
		if got := e.waitEnd(j).Status; got != seqstore.JobStatusCompleted {
			t.Errorf("job after Wake: %s", got)
		}
	})
}
