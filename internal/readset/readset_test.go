package readset

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/arn"
	"github.com/seqstore/seqstore/internal/blob"
	"github.com/seqstore/seqstore/internal/blob/fileblob"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/meta/sqlmeta"
	"github.com/seqstore/seqstore/internal/testutil"
)

const testAccount = "111111111111"

// env is a read-set service over a real SQLite database and a file object
// store, both in the test's temporary directory, with one sequence store.
type env struct {
	t     *testing.T
	ctx   context.Context
	db    *sqlmeta.Store
	files *fileblob.Store
	blobs *hookedBlobs
	meta  *hookedMeta
	svc   *Service
	store string
	logs  *testutil.SyncBuffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlmeta.OpenSQLite(ctx, filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	files, err := fileblob.Open(filepath.Join(dir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { files.Close() })
	e := &env{t: t, ctx: ctx, db: db, files: files, blobs: &hookedBlobs{Store: files}, meta: &hookedMeta{Store: db}, logs: &testutil.SyncBuffer{}}
	e.store = e.addStore(testAccount, "1000000001")
	e.svc = &Service{Meta: e.meta, Blobs: e.blobs, ARN: arn.Builder{Partition: "aws", Region: "us-east-1"},
		Log: slog.New(slog.NewTextHandler(e.logs, nil))}
	return e
}

// hookedBlobs is the file store with hooks that tests set to make the
// object store misbehave.
type hookedBlobs struct {
	blob.Store
	// onRead, when set, runs before each read of an opened object.
	onRead func(key string)
	// badCount, when set, is asked before the nth read (from 1) of each
	// opened object whether that read returns the count -1 instead, as a
	// faulty client of an object store might: whoever reads it, an
	// analysis's goroutine mostly, then panics in bufio.
	badCount func(key string, n int) bool
	// onNewWriter and onWrite, when set, run before NewWriter and before
	// each write of a stored file.
	onNewWriter func(key string)
	onWrite     func(key string)
}

func (h *hookedBlobs) NewRangeReader(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	rc, err := h.Store.NewRangeReader(ctx, key, off, n)
	if err != nil || h.onRead == nil && h.badCount == nil {
		return rc, err
	}
	return &hookedReader{ReadCloser: rc, key: key, hook: h.onRead, badCount: h.badCount}, nil
}

func (h *hookedBlobs) NewWriter(ctx context.Context, key string) (blob.Writer, error) {
	if h.onNewWriter != nil {
		h.onNewWriter(key)
	}
	w, err := h.Store.NewWriter(ctx, key)
	if err != nil || h.onWrite == nil {
		return w, err
	}
	return &hookedWriter{Writer: w, key: key, hook: h.onWrite}, nil
}

type hookedReader struct {
	io.ReadCloser
	key      string
	hook     func(key string)
	badCount func(key string, n int) bool
	reads    int
}

func (r *hookedReader) Read(p []byte) (int, error) {
	if r.hook != nil {
		r.hook(r.key)
	}
	r.reads++
	if r.badCount != nil && r.badCount(r.key, r.reads) {
		return -1, nil
	}
	return r.ReadCloser.Read(p)
}

type hookedWriter struct {
	blob.Writer
	key  string
	hook func(key string)
}

func (w *hookedWriter) Write(p []byte) (int, error) {
	w.hook(w.key)
	return w.Writer.Write(p)
}

// hookedMeta is the SQLite store with hooks.
type hookedMeta struct {
	meta.Store
	// renew, when set, answers IngestRenew instead of the store.
	renew func() error
	// onStoreGet, when set, runs before SequenceStoreGet.
	onStoreGet func()
	// afterUpdate, when set, answers ReadSetUpdate once the store has
	// applied it (or refused it with err).
	afterUpdate func(next *seqstore.ReadSet, err error) error
}

func (h *hookedMeta) ReadSetUpdate(ctx context.Context, next *seqstore.ReadSet, fromStatus string) error {
	err := h.Store.ReadSetUpdate(ctx, next, fromStatus)
	if h.afterUpdate != nil {
		return h.afterUpdate(next, err)
	}
	return err
}

func (h *hookedMeta) IngestRenew(ctx context.Context, accountID, storeID, id, owner string, leaseUntil time.Time) error {
	if h.renew != nil {
		return h.renew()
	}
	return h.Store.IngestRenew(ctx, accountID, storeID, id, owner, leaseUntil)
}

func (h *hookedMeta) SequenceStoreGet(ctx context.Context, accountID, id string) (*seqstore.SequenceStore, error) {
	if h.onStoreGet != nil {
		h.onStoreGet()
	}
	return h.Store.SequenceStoreGet(ctx, accountID, id)
}

// fastqGz returns n four-line records, gzip-compressed.
func fastqGz(n int) []byte {
	var plain bytes.Buffer
	for i := range n {
		fmt.Fprintf(&plain, "@read%d\nACGTACGTAC\n+\nIIIIIIIIII\n", i)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(plain.Bytes())
	zw.Close()
	return z.Bytes()
}

// addStore creates a sequence store of account and returns its ID.
func (e *env) addStore(account, id string) string {
	e.t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	if err := e.db.SequenceStoreCreate(e.ctx, &seqstore.SequenceStore{AccountID: account, ID: id, Name: "reads",
		ETagAlgorithmFamily: "MD5up", Status: seqstore.StoreStatusActive, CreatedAt: now, UpdatedAt: now}); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// complete uploads body as the one part of a FASTQ read set in the test
// account's store and completes the upload; it returns the read set as the
// ingester would claim it.
func (e *env) complete(body []byte) *seqstore.ReadSet {
	e.t.Helper()
	return e.completeIn(testAccount, e.store, body)
}

func (e *env) completeIn(account, store string, body []byte) *seqstore.ReadSet {
	e.t.Helper()
	return e.completeFile(account, store, seqstore.FileTypeFASTQ, body)
}

// completeFile is completeIn for a file of the given type.
func (e *env) completeFile(account, store, fileType string, body []byte) *seqstore.ReadSet {
	e.t.Helper()
	u, err := e.svc.CreateUpload(e.ctx, account, store, CreateUploadParams{SourceFileType: fileType, SubjectID: "s", SampleID: "s", Name: "sample"})
	if err != nil {
		e.t.Fatal(err)
	}
	sum, err := e.svc.UploadPart(e.ctx, account, store, u.ID, seqstore.FileSource1, 1, bytes.NewReader(body), int64(len(body)))
	if err != nil {
		e.t.Fatal(err)
	}
	id, err := e.svc.Complete(e.ctx, account, store, u.ID, []CompletedPart{{Number: 1, Source: seqstore.FileSource1, Checksum: sum}})
	if err != nil {
		e.t.Fatal(err)
	}
	rs, err := e.db.ReadSetGet(e.ctx, account, store, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return rs
}

func (e *env) get(id string) *seqstore.ReadSet {
	e.t.Helper()
	rs, err := e.db.ReadSetGet(e.ctx, testAccount, e.store, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return rs
}

// objects lists the keys under prefix.
func (e *env) objects(prefix string) []string {
	e.t.Helper()
	var keys []string
	if err := e.files.List(e.ctx, prefix, func(key string, _ blob.Attributes) error {
		keys = append(keys, key)
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return keys
}

// wantNothingLeft checks that neither parts nor stored files of any read
// set remain in the object store.
func (e *env) wantNothingLeft(what string) {
	e.t.Helper()
	if keys := e.objects("uploads/"); len(keys) > 0 {
		e.t.Errorf("%s: parts left: %v\n%s", what, keys, e.logs.String())
	}
	if keys := e.objects("readsets/"); len(keys) > 0 {
		e.t.Errorf("%s: stored files left: %v", what, keys)
	}
}

func TestIngestStoresTheFrozenPartsAndCleansUp(t *testing.T) {
	e := newEnv(t)
	rs := e.complete(fastqGz(50))
	if len(rs.SourceParts) != 1 || rs.SourceParts[0].Number != 1 {
		t.Fatalf("the read set froze parts %+v, want part 1", rs.SourceParts)
	}
	e.svc.Ingest(e.ctx, rs)
	got := e.get(rs.ID)
	if got.Status != seqstore.ReadSetStatusActive || got.SequenceInformation.TotalReadCount != 50 {
		t.Fatalf("read set %s %q, want ACTIVE with 50 reads", got.Status, got.StatusMessage)
	}
	if got.SourceParts != nil {
		t.Errorf("an ACTIVE read set still lists its parts: %+v", got.SourceParts)
	}
	if keys := e.objects("uploads/"); len(keys) > 0 {
		t.Errorf("parts left after ingestion: %v", keys)
	}
	if keys := e.objects("readsets/"); len(keys) != 1 {
		t.Errorf("stored files %v, want one", keys)
	}
}

// A read set completed by an older seqstore, which froze no parts, is
// ingested from its upload's parts.
func TestReadSetWithoutFrozenPartsIsIngestedFromItsUpload(t *testing.T) {
	e := newEnv(t)
	rs := e.complete(fastqGz(30))
	rs.SourceParts = nil
	if err := e.db.ReadSetUpdate(e.ctx, rs, seqstore.ReadSetStatusProcessingUpload); err != nil {
		t.Fatal(err)
	}
	e.svc.Ingest(e.ctx, e.get(rs.ID))
	if got := e.get(rs.ID); got.Status != seqstore.ReadSetStatusActive || got.SequenceInformation.TotalReadCount != 30 {
		t.Fatalf("read set %s %q, want ACTIVE with 30 reads", got.Status, got.StatusMessage)
	}
	if keys := e.objects("uploads/"); len(keys) > 0 {
		t.Errorf("parts left after ingestion: %v", keys)
	}
}

// A panic anywhere on the ingest path fails that read set, with the read
// set's ID in the log, and leaves neither parts nor stored files; the
// process, and the test, go on.
func TestPanicOnTheIngestPathFailsTheReadSet(t *testing.T) {
	for _, c := range []struct {
		name string
		hook func(e *env)
	}{
		{"metadata lookup, on the ingesting goroutine", func(e *env) {
			e.meta.onStoreGet = func() { panic("store lookup exploded") }
		}},
		{"opening a stored file, on the ingesting goroutine", func(e *env) {
			e.blobs.onNewWriter = func(key string) {
				if strings.HasPrefix(key, "readsets/") {
					panic("writer exploded")
				}
			}
		}},
		{"reading a part, on a goroutine of the analysis", func(e *env) {
			e.blobs.onRead = func(string) { panic("reader exploded") }
		}},
		{"writing a stored file, on a goroutine of the analysis", func(e *env) {
			e.blobs.onWrite = func(string) { panic("write exploded") }
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			rs := e.complete(fastqGz(20))
			c.hook(e)
			e.svc.Ingest(e.ctx, rs)
			got := e.get(rs.ID)
			if got.Status != seqstore.ReadSetStatusUploadFailed || !strings.Contains(got.StatusMessage, "internal error") || !strings.Contains(got.StatusMessage, "exploded") {
				t.Fatalf("read set %s %q, want UPLOAD_FAILED naming the internal error", got.Status, got.StatusMessage)
			}
			if len(got.StatusMessage) > 255 {
				t.Errorf("statusMessage is %d characters, more than 255", len(got.StatusMessage))
			}
			if logs := e.logs.String(); !strings.Contains(logs, "panic") || !strings.Contains(logs, "readSet="+rs.ID) {
				t.Errorf("the log does not report the panic with the read set's ID:\n%s", logs)
			}
			e.blobs.onRead, e.blobs.onWrite, e.blobs.onNewWriter = nil, nil, nil
			e.wantNothingLeft("after the panic")
		})
	}
}

func TestABadFileFailsItsReadSetAndLeavesNothing(t *testing.T) {
	e := newEnv(t)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write([]byte("@r1\nACGT\n+\nIII\n")) // quality shorter than the bases
	zw.Close()
	rs := e.complete(z.Bytes())
	e.svc.Ingest(e.ctx, rs)
	got := e.get(rs.ID)
	if got.Status != seqstore.ReadSetStatusUploadFailed || !strings.Contains(got.StatusMessage, "source1") {
		t.Fatalf("read set %s %q, want UPLOAD_FAILED naming source1", got.Status, got.StatusMessage)
	}
	e.wantNothingLeft("after the failure")
}

// block makes every read of a part wait until release is closed, and
// reports the first wait on reading.
func (e *env) block() (reading <-chan struct{}, release chan struct{}) {
	r := make(chan struct{})
	release = make(chan struct{})
	var once sync.Once
	e.blobs.onRead = func(string) {
		once.Do(func() { close(r) })
		<-release
	}
	return r, release
}

func TestReadSetDeletedDuringIngestKeepsNoFiles(t *testing.T) {
	e := newEnv(t)
	rs := e.complete(fastqGz(20))
	reading, release := e.block()
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.svc.Ingest(e.ctx, rs)
	}()
	<-reading
	errs, err := e.svc.BatchDelete(e.ctx, testAccount, e.store, []string{rs.ID})
	if err != nil || len(errs) > 0 {
		t.Fatalf("BatchDelete: %v %+v", err, errs)
	}
	close(release)
	<-done
	if _, err := e.db.ReadSetGet(e.ctx, testAccount, e.store, rs.ID); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("the deleted read set: %v, want not found", err)
	}
	e.wantNothingLeft("after the delete")
}

func newIngester(e *env) *Ingester {
	return &Ingester{Service: e.svc, Owner: "test-node", Lease: 300 * time.Millisecond, Poll: 10 * time.Millisecond, Workers: 1}
}

// runIngester runs in on a goroutine of its own until cancel is called;
// stopped is closed when Run has returned.
func runIngester(parent context.Context, in *Ingester) (cancel context.CancelFunc, stopped <-chan struct{}) {
	ctx, cancel := context.WithCancel(parent)
	done := make(chan struct{})
	go func() {
		defer close(done)
		in.Run(ctx)
	}()
	return cancel, done
}

// waitStatus polls the read set until it leaves PROCESSING_UPLOAD.
func (e *env) waitStatus(id string) *seqstore.ReadSet {
	e.t.Helper()
	return e.waitStatusIn(testAccount, e.store, id, 30*time.Second)
}

func (e *env) waitStatusIn(account, store, id string, wait time.Duration) *seqstore.ReadSet {
	e.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		rs, err := e.db.ReadSetGet(e.ctx, account, store, id)
		if err != nil {
			e.t.Fatal(err)
		}
		if rs.Status != seqstore.ReadSetStatusProcessingUpload {
			return rs
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("read set %s still PROCESSING_UPLOAD", id)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLostLeaseStopsTheIngestAndLeavesTheReadSetForTheNextClaim(t *testing.T) {
	e := newEnv(t)
	rs := e.complete(fastqGz(20))
	reading, release := e.block()
	lost := make(chan struct{})
	var renewals atomic.Int32
	e.meta.renew = func() error {
		if renewals.Add(1) == 1 {
			close(lost)
		}
		return fmt.Errorf("%w: another node holds the lease", meta.ErrConflict)
	}
	in := newIngester(e)
	// Look for work once only, so the read set is not claimed again when
	// its lease runs out.
	in.Poll = time.Hour
	cancel, stopped := runIngester(e.ctx, in)
	<-reading
	<-lost
	close(release)
	// The ingest stops on its own; wait for the log line that says so.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(e.logs.String(), "ingest interrupted") {
		if time.Now().After(deadline) {
			t.Fatalf("the ingest did not stop after losing its lease:\n%s", e.logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-stopped
	got := e.get(rs.ID)
	if got.Status != seqstore.ReadSetStatusProcessingUpload {
		t.Fatalf("after the lost lease the read set is %s, want PROCESSING_UPLOAD", got.Status)
	}
	if keys := e.objects("readsets/"); len(keys) > 0 {
		t.Errorf("stored files left by the stopped ingest: %v", keys)
	}
	if keys := e.objects("uploads/"); len(keys) != 1 {
		t.Errorf("parts %v, want the one part kept for the next claim", keys)
	}
	// The next claimer ingests it.
	e.blobs.onRead, e.meta.renew = nil, nil
	e.svc.Ingest(e.ctx, e.get(rs.ID))
	if got := e.get(rs.ID); got.Status != seqstore.ReadSetStatusActive {
		t.Fatalf("after the next ingest: %s %q, want ACTIVE", got.Status, got.StatusMessage)
	}
}

// An outcome that the metadata store applied but answered with an error (a
// cancelled request, when the lease is lost at that moment, can do that)
// still frees the parts: nobody claims a read set that left
// PROCESSING_UPLOAD, so nobody else would. The stored files stay with the
// ACTIVE read set.
func TestOutcomeAppliedDespiteAnErrorStillFreesTheParts(t *testing.T) {
	for _, c := range []struct {
		name   string
		body   []byte
		status string
	}{
		{"ACTIVE", fastqGz(20), seqstore.ReadSetStatusActive},
		{"UPLOAD_FAILED", []byte("not a FASTQ file\n"), seqstore.ReadSetStatusUploadFailed},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			rs := e.complete(c.body)
			e.meta.afterUpdate = func(next *seqstore.ReadSet, err error) error {
				if err == nil && next.ID == rs.ID {
					return fmt.Errorf("recording the outcome: %w", context.Canceled)
				}
				return err
			}
			e.svc.Ingest(e.ctx, rs)
			if got := e.get(rs.ID); got.Status != c.status {
				t.Fatalf("read set %s %q, want %s", got.Status, got.StatusMessage, c.status)
			}
			if keys := e.objects("uploads/"); len(keys) > 0 {
				t.Errorf("parts left: %v", keys)
			}
			wantFiles := 0
			if c.status == seqstore.ReadSetStatusActive {
				wantFiles = 1
			}
			if keys := e.objects("readsets/"); len(keys) != wantFiles {
				t.Errorf("stored files %v, want %d", keys, wantFiles)
			}
		})
	}
}

// A read set whose ingestion was abandoned MaxAttempts times (its node
// crashed mid-way each time, leaving the lease to run out) fails instead
// of being claimed again; one stopped by a graceful shutdown does not count.
func TestAbandonedIngestionsAreCountedAndEndInFailure(t *testing.T) {
	e := newEnv(t)
	rs := e.complete(fastqGz(20))
	in := newIngester(e)
	in.MaxAttempts = 2

	// A graceful stop mid-way gives the attempt back.
	reading, release := e.block()
	cancel, stopped := runIngester(e.ctx, in)
	<-reading
	cancel()
	close(release)
	<-stopped
	e.blobs.onRead = nil

	// Two nodes claim it and die without a word: their leases run out.
	for i := range 2 {
		now := time.Now()
		claimed, attempt, err := e.db.IngestClaim(e.ctx, fmt.Sprintf("doomed-%d", i), now, now.Add(time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if claimed.ID != rs.ID || attempt != i+1 {
			t.Fatalf("claim %d: read set %s attempt %d, want %s attempt %d (the graceful stop must not count)", i, claimed.ID, attempt, rs.ID, i+1)
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel, stopped = runIngester(e.ctx, in)
	got := e.waitStatus(rs.ID)
	// The parts go just after the status changes: let the ingester finish.
	cancel()
	<-stopped
	if got.Status != seqstore.ReadSetStatusUploadFailed || !strings.Contains(got.StatusMessage, "started 2 times") {
		t.Fatalf("read set %s %q, want UPLOAD_FAILED saying its ingestion was started 2 times", got.Status, got.StatusMessage)
	}
	e.wantNothingLeft("after giving up")
}

// With one account's read sets ingesting and more of them waiting, a free
// worker takes another account's read set first: a small upload does not
// wait behind a queue of large ones.
func TestIngestionTakesTurnsAcrossAccounts(t *testing.T) {
	e := newEnv(t)
	const otherAccount = "222222222222"
	storeB := e.addStore(otherAccount, "1000000002")
	var waitingA []*seqstore.ReadSet
	for range 3 {
		waitingA = append(waitingA, e.complete(fastqGz(20)))
	}
	b := e.completeIn(otherAccount, storeB, fastqGz(20))
	// A's read sets take as long as the test wants.
	release := make(chan struct{})
	e.blobs.onRead = func(key string) {
		if strings.HasPrefix(key, "uploads/"+testAccount+"/") {
			<-release
		}
	}
	in := newIngester(e)
	in.Workers = 2
	cancel, stopped := runIngester(e.ctx, in)
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	defer func() {
		unblock()
		cancel()
		<-stopped
	}()
	if got := e.waitStatusIn(otherAccount, storeB, b.ID, 10*time.Second); got.Status != seqstore.ReadSetStatusActive {
		t.Fatalf("B's read set %s %q, want ACTIVE", got.Status, got.StatusMessage)
	}
	unblock()
	for _, rs := range waitingA {
		if got := e.waitStatus(rs.ID); got.Status != seqstore.ReadSetStatusActive {
			t.Fatalf("A's read set %s %q, want ACTIVE", got.Status, got.StatusMessage)
		}
	}
}

func TestStoredCopyRefusesWritesOnceEnded(t *testing.T) {
	e := newEnv(t)
	for _, end := range []struct {
		name string
		end  func(c *storedCopy) error
	}{
		{"aborted", func(c *storedCopy) error { c.abort(); return nil }},
		{"closed", func(c *storedCopy) error { return c.close() }},
	} {
		t.Run(end.name, func(t *testing.T) {
			w, err := e.files.NewWriter(e.ctx, "readsets/x/"+end.name)
			if err != nil {
				t.Fatal(err)
			}
			c := &storedCopy{w: w}
			if _, err := c.Write([]byte("abc")); err != nil {
				t.Fatal(err)
			}
			// A writer on another goroutine, as analysis has, racing the
			// end: the race detector sees any write that reaches the blob
			// writer after it ended.
			var wg sync.WaitGroup
			wg.Go(func() {
				for {
					if _, err := c.Write([]byte("more")); err != nil {
						if !errors.Is(err, errWriteAfterEnd) {
							t.Errorf("write after the end: %v, want errWriteAfterEnd", err)
						}
						return
					}
				}
			})
			time.Sleep(time.Millisecond)
			if err := end.end(c); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			n := c.written()
			if _, err := c.Write([]byte("late")); !errors.Is(err, errWriteAfterEnd) {
				t.Fatalf("write after the end: %v, want errWriteAfterEnd", err)
			}
			if c.written() != n {
				t.Fatalf("a refused write was counted")
			}
		})
	}
}

func TestGuardedPartsReaderRefusesReadsOnceClosed(t *testing.T) {
	e := newEnv(t)
	w, err := e.files.NewWriter(e.ctx, "uploads/x/1")
	if err != nil {
		t.Fatal(err)
	}
	w.Write(bytes.Repeat([]byte("x"), 1<<20))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pr := &guardedReader{r: &partsReader{ctx: e.ctx, blobs: e.files, parts: []*seqstore.UploadPart{{Number: 1, Key: "uploads/x/1"}}}}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 1024)
		for {
			if _, err := pr.Read(buf); err != nil {
				if !errors.Is(err, errReadAfterClose) && err != io.EOF {
					t.Errorf("read: %v", err)
				}
				return
			}
		}
	})
	time.Sleep(time.Millisecond)
	if err := pr.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if _, err := pr.Read(make([]byte, 10)); !errors.Is(err, errReadAfterClose) {
		t.Fatalf("read after Close: %v, want errReadAfterClose", err)
	}
}

func TestImportedFileName(t *testing.T) {
	for _, c := range []struct{ uri, fileType, want string }{
		{"s3://b/run/r1.fastq.gz", seqstore.FileTypeFASTQ, "r1.fastq.gz"},
		{"s3://b/run/r1.fq.bgz", seqstore.FileTypeFASTQ, "r1.fq.bgz"},
		{"file:///d/r1.fq.bgzf", seqstore.FileTypeFASTQ, "r1.fq.bgzf"},
		{"s3://b/run/r1.fastq", seqstore.FileTypeFASTQ, "r1.fastq.gz"},
		{"s3://b/run/sample.bam", seqstore.FileTypeBAM, "sample.bam"},
		{"s3://b/run/..", seqstore.FileTypeFASTQ, "1234567890.gz"},
	} {
		if got := importedFileName(c.uri, c.fileType, "1234567890"); got != c.want {
			t.Errorf("importedFileName(%q, %s) = %q, want %q", c.uri, c.fileType, got, c.want)
		}
	}
}
