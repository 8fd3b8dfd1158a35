package metatest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

// newJob makes a job of n items, each with a spec and a read set of its
// own, so that a round trip that drops or mixes up a column shows.
func (f *fixture) newJob(account, storeID, kind string, created time.Time, n int) *seqstore.Job {
	id := f.id()
	j := &seqstore.Job{
		AccountID:     account,
		StoreID:       storeID,
		ID:            id,
		Kind:          kind,
		Status:        seqstore.JobStatusSubmitted,
		StatusMessage: "message of " + id,
		RoleArn:       "arn:aws:iam::" + account + ":role/job-" + id,
		Destination:   "s3://exports/" + id + "/",
		CreatedAt:     created,
	}
	for i := range n {
		j.Items = append(j.Items, seqstore.JobItem{
			JobID:     id,
			Index:     i,
			Status:    seqstore.JobItemStatusNotStarted,
			Spec:      []byte(fmt.Sprintf(`{"source":"s3://in/%s/%d.fastq"}`, id, i)),
			ReadSetID: fmt.Sprintf("rs-%s-%d", id, i),
			UpdatedAt: created,
		})
	}
	return j
}

func (f *fixture) createJob(account, storeID, kind string, created time.Time, n int) *seqstore.Job {
	f.t.Helper()
	j := f.newJob(account, storeID, kind, created, n)
	must(f.t, "JobCreate", f.s.JobCreate(f.ctx, j))
	return j
}

func jobID(j *seqstore.Job) string { return j.ID }

// jobKinds are the kinds the suite's claims ask for.
var jobKinds = []string{seqstore.JobKindReadSetImport, seqstore.JobKindReadSetExport}

// claimItem claims one item of any kind and returns its job ID and index.
func (f *fixture) claimItem(owner string, now, leaseUntil time.Time) (*meta.JobClaim, error) {
	return f.s.JobItemClaim(f.ctx, jobKinds, 0, owner, now, leaseUntil)
}

// endItem ends a claimed item with status and fails the test on an error.
func (f *fixture) endItem(c *meta.JobClaim, owner, status string, now time.Time) {
	f.t.Helper()
	it := *c.Item
	it.Status, it.StatusMessage = status, "ended "+status
	must(f.t, "JobItemEnd", f.s.JobItemEnd(f.ctx, &it, owner, now))
}

// jobGet reads back a job and fails the test on an error.
func (f *fixture) jobGet(j *seqstore.Job) *seqstore.Job {
	f.t.Helper()
	got, err := f.s.JobGet(f.ctx, j.AccountID, j.StoreID, j.Kind, j.ID)
	must(f.t, "JobGet", err)
	return got
}

var jobCases = []suiteCase{
	{"a job and its items read back as created", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		want := f.createJob(accountA, st.ID, seqstore.JobKindReadSetImport, at(1), 3)
		equal(t, "JobGet", f.jobGet(want), want)
		empty := f.createJob(accountA, st.ID, seqstore.JobKindReadSetExport, at(2), 0)
		got := f.jobGet(empty)
		equal(t, "items of a job without any", len(got.Items), 0)
		list, _, err := f.s.JobList(f.ctx, accountA, st.ID, seqstore.JobKindReadSetImport, meta.JobFilter{}, meta.Page{})
		must(t, "JobList", err)
		listed := *want
		listed.Items = nil
		equal(t, "JobList", list, []*seqstore.Job{&listed})
	}},
	{"JobCreate sets the starting statuses and numbers the items from 0", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		j := f.newJob(accountA, st.ID, seqstore.JobKindReadSetImport, at(1), 3)
		j.Status, j.CompletedAt = seqstore.JobStatusCompleted, at(5)
		for i := range j.Items {
			j.Items[i].Status, j.Items[i].Index, j.Items[i].JobID = seqstore.JobItemStatusFinished, 7, "other"
		}
		must(t, "JobCreate", f.s.JobCreate(f.ctx, j))
		got := f.jobGet(j)
		equal(t, "status", got.Status, seqstore.JobStatusSubmitted)
		equal(t, "completion time", got.CompletedAt, time.Time{})
		for i, it := range got.Items {
			equal(t, fmt.Sprintf("item %d", i), [3]any{it.JobID, it.Index, it.Status}, [3]any{j.ID, i, seqstore.JobItemStatusNotStarted})
		}
		equal(t, "the job as JobCreate left it", got, j)
	}},
	{"JobCreate refuses a taken ID and a store that is missing or another account's", func(t *testing.T, f *fixture) {
		stA := f.createSequenceStore(accountA, at(0))
		stB := f.createSequenceStore(accountB, at(0))
		refs := f.createReferenceStore(accountA, at(0))
		j := f.createJob(accountA, stA.ID, seqstore.JobKindReadSetImport, at(1), 1)
		again := f.newJob(accountA, stA.ID, seqstore.JobKindReadSetImport, at(2), 2)
		again.ID = j.ID
		wantErr(t, "JobCreate with a taken ID", f.s.JobCreate(f.ctx, again), meta.ErrConflict)
		equal(t, "the first job after the clash", f.jobGet(j), j)
		for _, c := range []struct{ name, store string }{
			{"a missing store", "0000000000"},
			{"another account's store", stB.ID},
			{"a reference store for a read-set job", refs.ID},
		} {
			wantErr(t, "JobCreate in "+c.name, f.s.JobCreate(f.ctx, f.newJob(accountA, c.store, seqstore.JobKindReadSetImport, at(3), 1)), meta.ErrNotFound)
		}
	}},
	{"reference import jobs live in reference stores and go with them", func(t *testing.T, f *fixture) {
		refs := f.createReferenceStore(accountA, at(0))
		seqs := f.createSequenceStore(accountA, at(0))
		wantErr(t, "JobCreate of a reference import in a sequence store",
			f.s.JobCreate(f.ctx, f.newJob(accountA, seqs.ID, seqstore.JobKindReferenceImport, at(1), 1)), meta.ErrNotFound)
		j := f.createJob(accountA, refs.ID, seqstore.JobKindReferenceImport, at(1), 2)
		equal(t, "the reference import job", f.jobGet(j), j)
		must(t, "ReferenceStoreDelete", f.s.ReferenceStoreDelete(f.ctx, accountA, refs.ID))
		_, err := f.s.JobGet(f.ctx, accountA, refs.ID, seqstore.JobKindReferenceImport, j.ID)
		wantErr(t, "JobGet after the store's delete", err, meta.ErrNotFound)
	}},
	{"a job is reached only through its account, store and kind", func(t *testing.T, f *fixture) {
		stA := f.createSequenceStore(accountA, at(0))
		other := f.createSequenceStore(accountA, at(0))
		stB := f.createSequenceStore(accountB, at(0))
		j := f.createJob(accountA, stA.ID, seqstore.JobKindReadSetImport, at(1), 1)
		for _, c := range []struct{ name, account, store, kind string }{
			{"account B", accountB, stA.ID, j.Kind},
			{"account B through its own store", accountB, stB.ID, j.Kind},
			{"another store", accountA, other.ID, j.Kind},
			{"another kind", accountA, stA.ID, seqstore.JobKindReadSetExport},
		} {
			_, err := f.s.JobGet(f.ctx, c.account, c.store, c.kind, j.ID)
			wantErr(t, "JobGet as "+c.name, err, meta.ErrNotFound)
			list, _, err := f.s.JobList(f.ctx, c.account, c.store, c.kind, meta.JobFilter{}, meta.Page{})
			must(t, "JobList as "+c.name, err)
			equal(t, "JobList as "+c.name, ids(list, jobID), []string{})
		}
	}},
	{"JobList filters by status and creation time", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		early := f.createJob(accountA, st.ID, seqstore.JobKindReadSetImport, at(10), 1)
		running := f.createJob(accountA, st.ID, seqstore.JobKindReadSetImport, at(20), 2)
		late := f.createJob(accountA, st.ID, seqstore.JobKindReadSetImport, at(30), 1)
		// early's one item ends, so early COMPLETES; one of running's starts.
		for range 2 {
			c, err := f.claimItem("node-1", at(100), at(60100))
			must(t, "JobItemClaim", err)
			if c.Job.ID == early.ID {
				f.endItem(c, "node-1", seqstore.JobItemStatusFinished, at(200))
			}
		}
		for _, c := range []struct {
			name   string
			filter meta.JobFilter
			want   []string
		}{
			{"no filter", meta.JobFilter{}, []string{early.ID, running.ID, late.ID}},
			{"COMPLETED", meta.JobFilter{Status: seqstore.JobStatusCompleted}, []string{early.ID}},
			{"IN_PROGRESS", meta.JobFilter{Status: seqstore.JobStatusInProgress}, []string{running.ID}},
			{"SUBMITTED", meta.JobFilter{Status: seqstore.JobStatusSubmitted}, []string{late.ID}},
			{"FAILED", meta.JobFilter{Status: seqstore.JobStatusFailed}, []string{}},
			{"created from 20", meta.JobFilter{Created: meta.TimeRange{After: at(20)}}, []string{running.ID, late.ID}},
			{"created up to 20", meta.JobFilter{Created: meta.TimeRange{Before: at(20)}}, []string{early.ID, running.ID}},
			{"created at 20 and IN_PROGRESS", meta.JobFilter{Status: seqstore.JobStatusInProgress, Created: meta.TimeRange{After: at(20), Before: at(20)}}, []string{running.ID}},
		} {
			list, _, err := f.s.JobList(f.ctx, accountA, st.ID, seqstore.JobKindReadSetImport, c.filter, meta.Page{})
			must(t, "JobList "+c.name, err)
			equal(t, "JobList "+c.name, ids(list, jobID), c.want)
		}
	}},
	{"with no open item a claim is not found", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		_, err := f.claimItem("node-1", at(1000), at(61000))
		wantErr(t, "JobItemClaim with no job", err, meta.ErrNotFound)
		f.createJob(accountA, st.ID, seqstore.JobKindReadSetExport, at(1), 1)
		_, err = f.s.JobItemClaim(f.ctx, []string{seqstore.JobKindReadSetImport}, 0, "node-1", at(1000), at(61000))
		wantErr(t, "JobItemClaim of another kind", err, meta.ErrNotFound)
		_, err = f.s.JobItemClaim(f.ctx, nil, 0, "node-1", at(1000), at(61000))
		wantErr(t, "JobItemClaim of no kind", err, meta.ErrNotFound)
	}},
	{"a claim hands out an item with its job, both IN_PROGRESS, and counts the attempt", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		j := f.createJob(accountA, st.ID, seqstore.JobKindReadSetImport, at(1), 2)
		c, err := f.s.JobItemClaim(f.ctx, []string{seqstore.JobKindReadSetImport}, 0, "node-1", at(1000), at(61000))
		must(t, "JobItemClaim", err)
		wantJob := *j
		wantJob.Status, wantJob.Items = seqstore.JobStatusInProgress, nil
		equal(t, "claimed job", c.Job, &wantJob)
		wantItem := j.Items[0]
		wantItem.Status, wantItem.UpdatedAt = seqstore.JobItemStatusInProgress, at(1000)
		equal(t, "claimed item", c.Item, &wantItem)
		equal(t, "attempt", c.Attempt, 1)
		got := f.jobGet(j)
		equal(t, "stored job status", got.Status, seqstore.JobStatusInProgress)
		equal(t, "stored items", got.Items, []seqstore.JobItem{wantItem, j.Items[1]})
	}},
	{"with a limit on jobs at once, a job beyond it waits SUBMITTED until a running one ends", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		first := f.createJob(accountA, st.ID, seqstore.JobKindReadSetImport, at(1), 2)
		second := f.createJob(accountB, f.createSequenceStore(accountB, at(0)).ID, seqstore.JobKindReadSetExport, at(2), 1)
		kinds := []string{seqstore.JobKindReadSetExport, seqstore.JobKindReadSetImport}
		claim := func(now int) (*meta.JobClaim, error) {
			return f.s.JobItemClaim(f.ctx, kinds, 1, "node-1", at(now), at(now+60000))
		}
		c1, err := claim(1000)
		must(t, "first claim", err)
		equal(t, "first claim's job", c1.Job.ID, first.ID)
		// The fair order would pick the other account's job next; the limit
		// holds it back, so the running job's second item comes instead.
		c2, err := claim(1001)
		must(t, "second claim", err)
		equal(t, "second claim's job", c2.Job.ID, first.ID)
		_, err = claim(1002)
		wantErr(t, "claim with the limit reached", err, meta.ErrNotFound)
		equal(t, "waiting job's status", f.jobGet(second).Status, seqstore.JobStatusSubmitted)
		c, err := f.s.JobItemClaim(f.ctx, kinds, 0, "node-1", at(1003), at(61003))
		must(t, "claim without a limit", err)
		equal(t, "claim without a limit takes the waiting job", c.Job.ID, second.ID)
		f.endItem(c, "node-1", seqstore.JobItemStatusFinished, at(1004))
		f.endItem(c1, "node-1", seqstore.JobItemStatusFinished, at(1005))
		f.endItem(c2, "node-1", seqstore.JobItemStatusFinished, at(1006))
		third := f.createJob(accountB, second.StoreID, seqstore.JobKindReadSetExport, at(3), 1)
		c3, err := claim(2000)
		must(t, "claim once the running jobs ended", err)
		equal(t, "claim once the running jobs ended", c3.Job.ID, third.ID)
	}},
	{"a reference store imports one reference at a time, on every node together", func(t *testing.T, f *fixture) {
		refs := f.createReferenceStore(accountA, at(0))
		other := f.createReferenceStore(accountA, at(0))
		first := f.createJob(accountA, refs.ID, seqstore.JobKindReferenceImport, at(1), 2)
		f.createJob(accountA, refs.ID, seqstore.JobKindReferenceImport, at(2), 1)
		elsewhere := f.createJob(accountA, other.ID, seqstore.JobKindReferenceImport, at(3), 1)
		kinds := []string{seqstore.JobKindReferenceImport}
		claim := func(owner string, now int) (*meta.JobClaim, error) {
			return f.s.JobItemClaim(f.ctx, kinds, 0, owner, at(now), at(now+60000))
		}
		claimed := func(what, owner string, now int) *meta.JobClaim {
			c, err := claim(owner, now)
			must(t, what, err)
			return c
		}
		refused := func(what, owner string, now int) {
			_, err := claim(owner, now)
			wantErr(t, what, err, meta.ErrNotFound)
		}
		c1 := claimed("first claim", "node-1", 1000)
		equal(t, "first claim's job", c1.Job.ID, first.ID)
		// The store's other items wait; the other store's does not.
		c2 := claimed("second claim", "node-2", 1001)
		equal(t, "second claim's job", c2.Job.ID, elsewhere.ID)
		refused("claim while both stores import", "node-2", 1002)
		f.endItem(c1, "node-1", seqstore.JobItemStatusFinished, at(1003))
		c3 := claimed("claim once the store's import ended", "node-2", 1004)
		equal(t, "its store", c3.Job.StoreID, refs.ID)
		refused("claim while the store imports again", "node-3", 1005)
		f.endItem(c2, "node-2", seqstore.JobItemStatusFinished, at(1006))
		// A lease that ran out frees the store's turn, for one item.
		c4 := claimed("claim after the lease ran out", "node-3", 61005)
		equal(t, "its store", c4.Job.StoreID, refs.ID)
		refused("claim while the store imports once more", "node-1", 61006)
		f.endItem(c4, "node-3", seqstore.JobItemStatusFinished, at(61008))

		// Nodes claiming in the same instant never run two imports of one
		// store.
		busy := f.createReferenceStore(accountA, at(0))
		f.createJob(accountA, busy.ID, seqstore.JobKindReferenceImport, at(4), 4)
		claims := make([]*meta.JobClaim, 6)
		errs := make([]error, len(claims))
		var wg sync.WaitGroup
		for i := range claims {
			wg.Add(1)
			go func() {
				defer wg.Done()
				claims[i], errs[i] = claim(fmt.Sprintf("node-%d", 10+i), 70000)
			}()
		}
		wg.Wait()
		stores := map[string]int{}
		for i, c := range claims {
			if errs[i] != nil {
				wantErr(t, "a concurrent claim", errs[i], meta.ErrNotFound)
				continue
			}
			stores[c.Job.StoreID]++
		}
		equal(t, "running imports per store after concurrent claims", stores, map[string]int{refs.ID: 1, busy.ID: 1})
	}},
	{"an item's lease holds until it expires, and then another owner takes it over", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		j := f.createJob(accountA, st.ID, seqstore.JobKindReadSetImport, at(1), 1)
		t0 := at(1000)
		renew := func(owner string, until time.Duration) func() error {
			return func() error { return f.s.JobItemRenew(f.ctx, j.ID, 0, owner, t0.Add(until)) }
		}
		steps := []struct {
			name        string
			owner       string
			now         time.Duration // claim at t0 + now, for a minute
			wantErr     error
			wantAttempt int
			renew       func() error
			renewErr    error
		}{
			{name: "node-1 claims", owner: "node-1", wantAttempt: 1},
			{name: "node-2 claims while node-1 holds the lease", owner: "node-2", now: 59 * time.Second, wantErr: meta.ErrNotFound},
			{name: "node-1 renews in time", renew: renew("node-1", 2*time.Minute)},
			{name: "node-2 claims before the renewed lease ends", owner: "node-2", now: 90 * time.Second, wantErr: meta.ErrNotFound},
			{name: "node-2 renews a lease it never had", renew: renew("node-2", 5*time.Minute), renewErr: meta.ErrConflict},
			{name: "node-2 claims after the lease expired", owner: "node-2", now: 2*time.Minute + time.Second, wantAttempt: 2},
			{name: "node-1 renews the lease it lost", renew: renew("node-1", 20*time.Minute), renewErr: meta.ErrConflict},
			{name: "node-3 claims while node-2 holds the lease", owner: "node-3", now: 2*time.Minute + 30*time.Second, wantErr: meta.ErrNotFound},
		}
		for _, s := range steps {
			if s.renew != nil {
				wantErr(t, s.name, s.renew(), s.renewErr)
			} else {
				now := t0.Add(s.now)
				c, err := f.claimItem(s.owner, now, now.Add(time.Minute))
				wantErr(t, s.name, err, s.wantErr)
				if s.wantErr == nil && err == nil {
					equal(t, s.name+": item", [2]any{c.Item.JobID, c.Item.Index}, [2]any{j.ID, 0})
					equal(t, s.name+": attempt", c.Attempt, s.wantAttempt)
				}
			}
			if t.Failed() {
				t.Fatalf("stopped after %q", s.name)
			}
		}
		// node-1 lost the lease: it can neither release nor end the item.
		wantErr(t, "JobItemRelease by the former owner", f.s.JobItemRelease(f.ctx, j.ID, 0, "node-1"), meta.ErrConflict)
		it := j.Items[0]
		it.Status = seqstore.JobItemStatusFinished
		wantErr(t, "JobItemEnd by the former owner", f.s.JobItemEnd(f.ctx, &it, "node-1", t0.Add(3*time.Minute)), meta.ErrConflict)
		must(t, "JobItemEnd by the owner", f.s.JobItemEnd(f.ctx, &it, "node-2", t0.Add(3*time.Minute)))
		wantErr(t, "JobItemEnd again", f.s.JobItemEnd(f.ctx, &it, "node-2", t0.Add(4*time.Minute)), meta.ErrConflict)
		wantErr(t, "JobItemRenew of an ended item", f.s.JobItemRenew(f.ctx, j.ID, 0, "node-2", t0.Add(time.Hour)), meta.ErrConflict)
		wantErr(t, "JobItemRelease of an ended item", f.s.JobItemRelease(f.ctx, j.ID, 0, "node-2"), meta.ErrConflict)
		_, err := f.claimItem("node-3", t0.Add(time.Hour), t0.Add(2*time.Hour))
		wantErr(t, "JobItemClaim after the end", err, meta.ErrNotFound)
		wantErr(t, "JobItemRenew of a missing item", f.s.JobItemRenew(f.ctx, j.ID, 5, "node-2", t0.Add(time.Hour)), meta.ErrConflict)
	}},
	{"a release frees the lease at once and takes back the attempt", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		j := f.createJob(accountA, st.ID, seqstore.JobKindReadSetExport, at(1), 1)
		t0 := at(1000)
		c, err := f.claimItem("node-1", t0, t0.Add(time.Hour))
		must(t, "JobItemClaim", err)
		equal(t, "first attempt", c.Attempt, 1)
		wantErr(t, "JobItemRelease by another node", f.s.JobItemRelease(f.ctx, j.ID, 0, "node-2"), meta.ErrConflict)
		must(t, "JobItemRelease", f.s.JobItemRelease(f.ctx, j.ID, 0, "node-1"))
		got := f.jobGet(j)
		equal(t, "item status after the release", got.Items[0].Status, seqstore.JobItemStatusInProgress)
		// The freed lease belongs to no one, not even to an empty owner.
		for _, owner := range []string{"node-1", ""} {
			wantErr(t, fmt.Sprintf("JobItemRenew by %q after the release", owner), f.s.JobItemRenew(f.ctx, j.ID, 0, owner, t0.Add(time.Hour)), meta.ErrConflict)
			wantErr(t, fmt.Sprintf("JobItemRelease by %q after the release", owner), f.s.JobItemRelease(f.ctx, j.ID, 0, owner), meta.ErrConflict)
			it := got.Items[0]
			it.Status = seqstore.JobItemStatusFinished
			wantErr(t, fmt.Sprintf("JobItemEnd by %q after the release", owner), f.s.JobItemEnd(f.ctx, &it, owner, t0), meta.ErrConflict)
		}
		c, err = f.claimItem("node-2", t0.Add(time.Second), t0.Add(time.Hour))
		must(t, "JobItemClaim at once after the release", err)
		equal(t, "attempt after the release", c.Attempt, 1)
		c, err = f.claimItem("node-3", t0.Add(2*time.Hour), t0.Add(3*time.Hour))
		must(t, "JobItemClaim after the lease ran out", err)
		equal(t, "attempt after an abandoned claim", c.Attempt, 2)
	}},
	{"a job's status follows its items", func(t *testing.T, f *fixture) {
		for _, c := range []struct {
			name  string
			items []string
			want  string
		}{
			{"every item finished", []string{seqstore.JobItemStatusFinished, seqstore.JobItemStatusFinished}, seqstore.JobStatusCompleted},
			{"every item failed", []string{seqstore.JobItemStatusFailed, seqstore.JobItemStatusFailed, seqstore.JobItemStatusFailed}, seqstore.JobStatusFailed},
			{"some items failed", []string{seqstore.JobItemStatusFinished, seqstore.JobItemStatusFailed}, seqstore.JobStatusCompletedWithFailures},
			{"the last item failed", []string{seqstore.JobItemStatusFailed, seqstore.JobItemStatusFinished, seqstore.JobItemStatusFinished}, seqstore.JobStatusCompletedWithFailures},
			{"one item finished", []string{seqstore.JobItemStatusFinished}, seqstore.JobStatusCompleted},
		} {
			t.Run(c.name, func(t *testing.T) {
				f := f.in(t)
				st := f.createSequenceStore(accountA, at(0))
				j := f.createJob(accountA, st.ID, seqstore.JobKindReadSetImport, at(1), len(c.items))
				equal(t, "status before any claim", f.jobGet(j).Status, seqstore.JobStatusSubmitted)
				var claims []*meta.JobClaim
				for i := range c.items {
					cl, err := f.claimItem("node-1", at(100+i), at(60000))
					must(t, "JobItemClaim", err)
					claims = append(claims, cl)
				}
				for i, status := range c.items {
					got := f.jobGet(j)
					equal(t, fmt.Sprintf("job status with %d of %d items ended", i, len(c.items)), got.Status, seqstore.JobStatusInProgress)
					equal(t, "completion time of a running job", got.CompletedAt, time.Time{})
					it := *claims[i].Item
					it.Status, it.StatusMessage, it.ReadSetID = status, "item "+fmt.Sprint(i)+" "+status, "rs-new-"+fmt.Sprint(i)
					must(t, "JobItemEnd", f.s.JobItemEnd(f.ctx, &it, "node-1", at(1000+i)))
				}
				got := f.jobGet(j)
				equal(t, "job status", got.Status, c.want)
				equal(t, "completion time", got.CompletedAt, at(1000+len(c.items)-1))
				for i, it := range got.Items {
					equal(t, fmt.Sprintf("item %d", i), [4]any{it.Status, it.StatusMessage, it.ReadSetID, it.UpdatedAt},
						[4]any{c.items[i], "item " + fmt.Sprint(i) + " " + c.items[i], "rs-new-" + fmt.Sprint(i), at(1000 + i)})
				}
			})
		}
	}},
	{"JobItemEnd takes only a final status", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		f.createJob(accountA, st.ID, seqstore.JobKindReadSetImport, at(1), 1)
		c, err := f.claimItem("node-1", at(100), at(60000))
		must(t, "JobItemClaim", err)
		for _, status := range []string{seqstore.JobItemStatusInProgress, seqstore.JobItemStatusNotStarted, ""} {
			it := *c.Item
			it.Status = status
			if err := f.s.JobItemEnd(f.ctx, &it, "node-1", at(200)); err == nil {
				t.Errorf("JobItemEnd with status %q succeeded", status)
			}
		}
		f.endItem(c, "node-1", seqstore.JobItemStatusFinished, at(300))
	}},
	{"8 concurrent claimers never get the same item, and the job ends once", func(t *testing.T, f *fixture) {
		stA := f.createSequenceStore(accountA, at(0))
		stB := f.createSequenceStore(accountB, at(0))
		jobs := []*seqstore.Job{
			f.createJob(accountA, stA.ID, seqstore.JobKindReadSetImport, at(1), 10),
			f.createJob(accountA, stA.ID, seqstore.JobKindReadSetExport, at(2), 7),
			f.createJob(accountB, stB.ID, seqstore.JobKindReadSetImport, at(3), 7),
		}
		total := 0
		for _, j := range jobs {
			total += len(j.Items)
		}
		const claimers = 8
		now := at(100000)
		var mu sync.Mutex
		owners := map[string]int{}
		errs := make([]error, claimers)
		race(claimers, func(i int) {
			owner := fmt.Sprintf("node-%d", i)
			for range total + 1 {
				c, err := f.claimItem(owner, now, now.Add(time.Hour))
				if errors.Is(err, meta.ErrNotFound) {
					return
				}
				if err != nil {
					errs[i] = err
					return
				}
				key := fmt.Sprintf("%s/%d", c.Item.JobID, c.Item.Index)
				mu.Lock()
				prev, taken := owners[key]
				owners[key] = i
				mu.Unlock()
				if taken {
					errs[i] = fmt.Errorf("item %s went to claimer %d and to claimer %d", key, prev, i)
					return
				}
				it := *c.Item
				it.Status = seqstore.JobItemStatusFinished
				if err := f.s.JobItemEnd(f.ctx, &it, owner, now); err != nil {
					errs[i] = fmt.Errorf("JobItemEnd %s: %w", key, err)
					return
				}
			}
			errs[i] = fmt.Errorf("%s claimed more items than there are", owner)
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("claimer %d: %v", i, err)
			}
		}
		equal(t, "items claimed", len(owners), total)
		for _, j := range jobs {
			got := f.jobGet(j)
			equal(t, "status of job "+j.ID, [2]any{got.Status, got.CompletedAt}, [2]any{seqstore.JobStatusCompleted, now})
		}
	}},
	{"claims take turns across accounts and jobs", func(t *testing.T, f *fixture) {
		name := f.createTurnJobs()
		now := at(100000)
		var got []string
		for {
			c, err := f.claimItem("node-1", now, now.Add(time.Hour))
			if errors.Is(err, meta.ErrNotFound) {
				break
			}
			must(t, "JobItemClaim", err)
			got = append(got, name(c))
		}
		// Every lease holds, so each claim sees those before it running:
		// fewest running first. A0; then B (nothing of B's running); then
		// a (account A runs one, job a nothing: 1 against A's 2) ...
		equal(t, "claim order", got, turnOrder)
	}},
	{"one worker takes turns across accounts and jobs, though nothing else runs", func(t *testing.T, f *fixture) {
		name := f.createTurnJobs()
		var got []string
		for i := 0; ; i++ {
			now := at(100000 + i)
			c, err := f.claimItem("node-1", now, now.Add(time.Hour))
			if errors.Is(err, meta.ErrNotFound) {
				break
			}
			must(t, "JobItemClaim", err)
			got = append(got, name(c))
			f.endItem(c, "node-1", seqstore.JobItemStatusFinished, now)
		}
		// The account, then the job, served least recently goes first.
		equal(t, "claim order", got, turnOrder)
	}},
	{"deleting a store deletes its jobs", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		keep := f.createSequenceStore(accountA, at(0))
		gone := f.createJob(accountA, st.ID, seqstore.JobKindReadSetImport, at(1), 2)
		kept := f.createJob(accountA, keep.ID, seqstore.JobKindReadSetImport, at(1), 1)
		must(t, "SequenceStoreDelete", f.s.SequenceStoreDelete(f.ctx, accountA, st.ID))
		_, err := f.s.JobGet(f.ctx, accountA, st.ID, gone.Kind, gone.ID)
		wantErr(t, "JobGet of a deleted store's job", err, meta.ErrNotFound)
		equal(t, "the other store's job", f.jobGet(kept), kept)
		c, err := f.claimItem("node-1", at(100), at(60000))
		must(t, "JobItemClaim", err)
		equal(t, "claimed job", c.Job.ID, kept.ID)
	}},
}

// createTurnJobs creates the jobs of the fairness cases: A (4 items) and
// then a (2) of account A, then B (2) of account B. It returns a function
// that names a claim by its job's letter and the item's index.
func (f *fixture) createTurnJobs() func(*meta.JobClaim) string {
	stA := f.createSequenceStore(accountA, at(0))
	stB := f.createSequenceStore(accountB, at(0))
	names := map[string]string{}
	for i, j := range []struct {
		account, store, name string
		items                int
	}{{accountA, stA.ID, "A", 4}, {accountA, stA.ID, "a", 2}, {accountB, stB.ID, "B", 2}} {
		names[f.createJob(j.account, j.store, seqstore.JobKindReadSetImport, at(1+i), j.items).ID] = j.name
	}
	return func(c *meta.JobClaim) string { return fmt.Sprintf("%s%d", names[c.Job.ID], c.Item.Index) }
}

// turnOrder is the order in which the fairness cases claim createTurnJobs'
// items: accounts alternate while both have work, and so do A's jobs.
var turnOrder = []string{"A0", "B0", "a0", "B1", "A1", "a1", "A2", "A3"}
