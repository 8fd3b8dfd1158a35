package readset

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/blob"
	"github.com/seqstore/seqstore/internal/blob/fileblob"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/testutil"
)

// lifecycleEnv is an env with an archive tier in a directory of its own,
// a clock the test moves, and one ACTIVE read set.
type lifecycleEnv struct {
	*env
	archive *hookedBlobs
	clock   *testutil.Clock
	rs      *seqstore.ReadSet
	job     *seqstore.Job // an archive job to run items of
}

func newLifecycleEnv(t *testing.T) *lifecycleEnv {
	e := newEnv(t)
	files, err := fileblob.Open(filepath.Join(t.TempDir(), "archive"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { files.Close() })
	le := &lifecycleEnv{env: e, archive: &hookedBlobs{Store: files}, clock: testutil.NewClock(time.Now().UTC())}
	e.svc.Archive, e.svc.ArchiveAfter, e.svc.Now = le.archive, 30*24*time.Hour, le.clock.Now
	rs := e.complete(fastqGz(2000))
	cancel, stopped := runIngester(e.ctx, newIngester(e))
	le.rs = e.waitStatus(rs.ID)
	cancel()
	<-stopped
	if le.rs.Status != seqstore.ReadSetStatusActive {
		t.Fatalf("read set %s: %s", le.rs.Status, le.rs.StatusMessage)
	}
	le.job = &seqstore.Job{AccountID: testAccount, StoreID: e.store, ID: "9000000001", Kind: seqstore.JobKindReadSetArchive}
	return le
}

// content reads the read set's first file through GetPart.
func (le *lifecycleEnv) content() (string, error) {
	p, err := le.svc.GetPart(le.ctx, testAccount, le.store, le.rs.ID, seqstore.FileSource1, 1)
	if err != nil {
		return "", err
	}
	defer p.Body.Close()
	b, err := io.ReadAll(p.Body)
	return string(b), err
}

func (le *lifecycleEnv) item(id string) *seqstore.JobItem {
	return &seqstore.JobItem{JobID: le.job.ID, ReadSetID: id}
}

func (le *lifecycleEnv) archiveNow() {
	le.t.Helper()
	le.clock.Advance(le.svc.ArchiveAfter + time.Hour)
	if err := (ArchiveHandler{le.svc}).Do(le.ctx, le.job, le.item(le.rs.ID)); err != nil {
		le.t.Fatal(err)
	}
	if got := le.get(le.rs.ID).Status; got != seqstore.ReadSetStatusArchived {
		le.t.Fatalf("read set is %s after archiving", got)
	}
}

func TestAnArchiveCutShortLeavesTheReadSetReadableAndIsFinishedLater(t *testing.T) {
	le := newLifecycleEnv(t)
	want, err := le.content()
	if err != nil {
		t.Fatal(err)
	}
	le.clock.Advance(le.svc.ArchiveAfter + time.Hour)
	// The node stops while writing the archive copy.
	ctx, cancel := context.WithCancel(le.ctx)
	le.archive.onNewWriter = func(string) { cancel() }
	if err := (ArchiveHandler{le.svc}).Do(ctx, le.job, le.item(le.rs.ID)); err == nil {
		t.Fatal("an archive whose node stopped mid-copy reported success")
	}
	le.archive.onNewWriter = nil
	if got := le.get(le.rs.ID).Status; got != seqstore.ReadSetStatusActive {
		t.Fatalf("read set is %s after an archive cut short, want ACTIVE", got)
	}
	if got, err := le.content(); err != nil || got != want {
		t.Fatalf("read set unreadable after an archive cut short: %v", err)
	}
	// That read restarted the period; once it has passed again, the
	// item, done again, archives the read set.
	le.clock.Advance(le.svc.ArchiveAfter + time.Hour)
	if err := (ArchiveHandler{le.svc}).Do(le.ctx, le.job, le.item(le.rs.ID)); err != nil {
		t.Fatal(err)
	}
	if got := le.get(le.rs.ID).Status; got != seqstore.ReadSetStatusArchived {
		t.Fatalf("read set is %s after the item was done again", got)
	}
	if keys := le.objects("readsets/"); len(keys) != 0 {
		t.Errorf("active copies left: %v", keys)
	}
}

func TestAnArchiveDoneAgainRemovesTheActiveCopyItLeft(t *testing.T) {
	le := newLifecycleEnv(t)
	le.archiveNow()
	// As if the node had stopped between the status change and the
	// removal: put an active copy back.
	for _, f := range le.rs.Files {
		if err := copyVerified(le.ctx, le.archive, f.Key, le.blobs, f.Key, f.ContentLength); err != nil {
			t.Fatal(err)
		}
	}
	if err := (ArchiveHandler{le.svc}).Do(le.ctx, le.job, le.item(le.rs.ID)); err != nil {
		t.Fatal(err)
	}
	if keys := le.objects("readsets/"); len(keys) != 0 {
		t.Errorf("active copies left: %v", keys)
	}
}

func TestAReadSetReadSinceTheSweepIsNotArchived(t *testing.T) {
	le := newLifecycleEnv(t)
	le.clock.Advance(le.svc.ArchiveAfter + time.Hour)
	if _, err := le.content(); err != nil { // a read after the sweep chose it
		t.Fatal(err)
	}
	item := le.item(le.rs.ID)
	if err := (ArchiveHandler{le.svc}).Do(le.ctx, le.job, item); err != nil {
		t.Fatal(err)
	}
	if got := le.get(le.rs.ID).Status; got != seqstore.ReadSetStatusActive {
		t.Fatalf("a read set read since the sweep is %s", got)
	}
	if !strings.Contains(item.StatusMessage, "read since") {
		t.Errorf("statusMessage %q", item.StatusMessage)
	}
}

func TestActivationItems(t *testing.T) {
	for _, c := range []struct {
		name string
		// set up puts the read set where the item finds it; it returns
		// the activation job whose item runs.
		setUp       func(le *lifecycleEnv) *seqstore.Job
		wantErr     string
		wantMessage string
		wantStatus  string
	}{
		{"an ARCHIVED read set is activated", func(le *lifecycleEnv) *seqstore.Job {
			le.archiveNow()
			return le.startActivation()
		}, "", "", seqstore.ReadSetStatusActive},
		{"an ACTIVE read set needs nothing", func(le *lifecycleEnv) *seqstore.Job {
			return le.startActivation()
		}, "", NoActivationNeeded, seqstore.ReadSetStatusActive},
		{"a read set another running job activates needs nothing", func(le *lifecycleEnv) *seqstore.Job {
			le.archiveNow()
			other := le.startActivation()
			le.setActivating(other.ID)
			return le.startActivation()
		}, "", NoActivationNeeded, seqstore.ReadSetStatusActivating},
		{"the item of the job that began an activation resumes it", func(le *lifecycleEnv) *seqstore.Job {
			le.archiveNow()
			j := le.startActivation()
			le.setActivating(j.ID)
			return j
		}, "", "", seqstore.ReadSetStatusActive},
		{"an activation whose job is gone is taken over", func(le *lifecycleEnv) *seqstore.Job {
			le.archiveNow()
			j := le.startActivation()
			le.setActivating("1234567890")
			return j
		}, "", "", seqstore.ReadSetStatusActive},
		{"a deleted read set fails its item", func(le *lifecycleEnv) *seqstore.Job {
			le.archiveNow()
			j := le.startActivation()
			if _, err := le.svc.BatchDelete(le.ctx, testAccount, le.store, []string{le.rs.ID}); err != nil {
				le.t.Fatal(err)
			}
			return j
		}, "does not exist", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			le := newLifecycleEnv(t)
			want, err := le.content()
			if err != nil {
				t.Fatal(err)
			}
			j := c.setUp(le)
			item := &seqstore.JobItem{JobID: j.ID, ReadSetID: le.rs.ID}
			err = (ActivationHandler{le.svc}).Do(le.ctx, j, item)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("got %v, want an error saying %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if item.StatusMessage != c.wantMessage {
				t.Errorf("statusMessage %q, want %q", item.StatusMessage, c.wantMessage)
			}
			got := le.get(le.rs.ID)
			if got.Status != c.wantStatus {
				t.Fatalf("read set is %s, want %s", got.Status, c.wantStatus)
			}
			if got.Status != seqstore.ReadSetStatusActive {
				return
			}
			if content, err := le.content(); err != nil || content != want {
				t.Errorf("content after activation differs (%v)", err)
			}
			if *got.ETag != *le.rs.ETag || len(got.Files) != len(le.rs.Files) {
				t.Errorf("after activation: etag %+v files %+v; before %+v %+v", got.ETag, got.Files, le.rs.ETag, le.rs.Files)
			}
			var left []string
			if err := le.archive.List(le.ctx, "", func(key string, _ blob.Attributes) error { left = append(left, key); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(left) != 0 {
				t.Errorf("archive copies left after activation: %v", left)
			}
		})
	}
}

func (le *lifecycleEnv) startActivation() *seqstore.Job {
	le.t.Helper()
	j, err := le.svc.StartActivation(le.ctx, testAccount, le.store, []string{le.rs.ID})
	if err != nil {
		le.t.Fatal(err)
	}
	return j
}

// setActivating marks the read set ACTIVATING by job, as a node that
// stopped mid-activation leaves it.
func (le *lifecycleEnv) setActivating(job string) {
	le.t.Helper()
	rs := le.get(le.rs.ID)
	from := rs.Status
	rs.Status, rs.ActivationJobID = seqstore.ReadSetStatusActivating, job
	if err := le.db.ReadSetUpdate(le.ctx, rs, from); err != nil {
		le.t.Fatal(err)
	}
}

func TestAnArchivedReadSetRefusesDownloadsSayingToActivate(t *testing.T) {
	le := newLifecycleEnv(t)
	le.archiveNow()
	_, err := le.content()
	var se *seqstore.Error
	if !errors.As(err, &se) || se.Code != seqstore.CodeConflict || !strings.Contains(se.Message, "StartReadSetActivationJob") {
		t.Fatalf("GetPart of an archived read set: %v", err)
	}
}

func TestStartActivationJudgesItsRequest(t *testing.T) {
	le := newLifecycleEnv(t)
	many := make([]string, MaxActivationReadSets+1)
	for i := range many {
		many[i] = le.rs.ID
	}
	for _, c := range []struct {
		name string
		ids  []string
		code seqstore.ErrorCode
	}{
		{"none", nil, seqstore.CodeValidation},
		{"too many", many, seqstore.CodeValidation},
		{"twice", []string{le.rs.ID, le.rs.ID}, seqstore.CodeValidation},
		{"missing", []string{"0000000000"}, seqstore.CodeNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := le.svc.StartActivation(le.ctx, testAccount, le.store, c.ids)
			var se *seqstore.Error
			if !errors.As(err, &se) || se.Code != c.code {
				t.Fatalf("got %v, want %s", err, c.code)
			}
		})
	}
}

func TestADeletionDuringAnArchiveLeavesNothingInEitherTier(t *testing.T) {
	le := newLifecycleEnv(t)
	le.clock.Advance(le.svc.ArchiveAfter + time.Hour)
	deleted := false
	le.archive.onNewWriter = func(string) {
		if !deleted {
			deleted = true
			if errs, err := le.svc.BatchDelete(le.ctx, testAccount, le.store, []string{le.rs.ID}); err != nil || len(errs) != 0 {
				t.Errorf("BatchDelete: %v %v", errs, err)
			}
		}
	}
	if err := (ArchiveHandler{le.svc}).Do(le.ctx, le.job, le.item(le.rs.ID)); err == nil && !deleted {
		t.Fatal("the deletion did not run")
	}
	le.wantNothingLeft("active tier")
	var left []string
	if err := le.archive.List(le.ctx, "", func(key string, _ blob.Attributes) error { left = append(left, key); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("archive copies of a deleted read set left: %v", left)
	}
}

func TestAnArchiveRunTwiceAtOnceKeepsTheArchivedCopies(t *testing.T) {
	le := newLifecycleEnv(t)
	want, err := le.content()
	if err != nil {
		t.Fatal(err)
	}
	le.clock.Advance(le.svc.ArchiveAfter + time.Hour)
	// While this run copies, another run of the item (its node thought
	// lost) archives the read set first.
	other := false
	le.archive.onNewWriter = func(string) {
		if !other {
			other = true
			if err := (ArchiveHandler{le.svc}).Do(le.ctx, le.job, le.item(le.rs.ID)); err != nil {
				t.Errorf("the other run: %v", err)
			}
		}
	}
	// This run may fail reading the active copy the other removed; either
	// way the archived copies must stay.
	(ArchiveHandler{le.svc}).Do(le.ctx, le.job, le.item(le.rs.ID))
	le.archive.onNewWriter = nil
	if got := le.get(le.rs.ID).Status; got != seqstore.ReadSetStatusArchived {
		t.Fatalf("read set is %s", got)
	}
	j := le.startActivation()
	if err := (ActivationHandler{le.svc}).Do(le.ctx, j, &seqstore.JobItem{JobID: j.ID, ReadSetID: le.rs.ID}); err != nil {
		t.Fatalf("activation after two archive runs: %v", err)
	}
	if got, err := le.content(); err != nil || got != want {
		t.Fatalf("content after two archive runs and an activation differs (%v)", err)
	}
}

// A deleted read set is listed as DELETED, without files, for
// DeletedRetention on the service's clock, and then its record goes; with
// no retention it goes at once.
func TestDeletedReadSetsStayListedForTheRetention(t *testing.T) {
	listDeleted := func(le *lifecycleEnv) []string {
		items, _, err := le.svc.List(le.ctx, testAccount, le.store, meta.ReadSetFilter{Status: seqstore.ReadSetStatusDeleted}, meta.Page{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, rs := range items {
			ids = append(ids, rs.ID)
		}
		return ids
	}
	for _, retention := range []time.Duration{0, 7 * 24 * time.Hour} {
		t.Run(retention.String(), func(t *testing.T) {
			le := newLifecycleEnv(t)
			le.svc.DeletedRetention = retention
			var se *seqstore.Error
			if errs, err := le.svc.BatchDelete(le.ctx, testAccount, le.store, []string{le.rs.ID}); err != nil || len(errs) != 0 {
				t.Fatalf("BatchDelete: %v %v", errs, err)
			}
			if keys := le.objects("readsets/"); len(keys) != 0 {
				t.Errorf("files left after the deletion: %v", keys)
			}
			if _, err := le.svc.Get(le.ctx, testAccount, le.store, le.rs.ID); !errors.As(err, &se) || se.Code != seqstore.CodeNotFound {
				t.Errorf("Get of a deleted read set: %v, want not found", err)
			}
			if errs, _ := le.svc.BatchDelete(le.ctx, testAccount, le.store, []string{le.rs.ID}); len(errs) != 1 || errs[0].Code != string(seqstore.CodeNotFound) {
				t.Errorf("a second BatchDelete: %+v, want not found", errs)
			}
			if retention == 0 {
				if ids := listDeleted(le); len(ids) != 0 {
					t.Fatalf("listed as DELETED with no retention: %v", ids)
				}
				return
			}
			if ids := listDeleted(le); len(ids) != 1 || ids[0] != le.rs.ID {
				t.Fatalf("listed as DELETED: %v, want %s", ids, le.rs.ID)
			}
			stored, err := le.db.ReadSetGet(le.ctx, testAccount, le.store, le.rs.ID)
			if err != nil || stored.Status != seqstore.ReadSetStatusDeleted || len(stored.Files) != 0 {
				t.Fatalf("the record: %+v %v, want DELETED without files", stored, err)
			}
			if items, _, _ := le.svc.List(le.ctx, testAccount, le.store, meta.ReadSetFilter{}, meta.Page{}); len(items) != 0 {
				t.Errorf("an unfiltered list shows %d read sets, want none", len(items))
			}
			le.clock.Advance(retention - time.Minute)
			if n, err := le.svc.PurgeDeleted(le.ctx); err != nil || n != 0 {
				t.Fatalf("a purge within the retention removed %d: %v", n, err)
			}
			if ids := listDeleted(le); len(ids) != 1 {
				t.Fatalf("listed as DELETED a minute before the retention ends: %v", ids)
			}
			le.clock.Advance(2 * time.Minute)
			if n, err := le.svc.PurgeDeleted(le.ctx); err != nil || n != 1 {
				t.Fatalf("a purge after the retention removed %d: %v", n, err)
			}
			if ids := listDeleted(le); len(ids) != 0 {
				t.Fatalf("still listed after the retention: %v", ids)
			}
		})
	}
}
