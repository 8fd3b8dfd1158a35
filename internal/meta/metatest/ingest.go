package metatest

import (
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

// processing edits a new read set into one that awaits ingestion.
func processing(r *seqstore.ReadSet) { r.Status = seqstore.ReadSetStatusProcessingUpload }

var ingestCases = []suiteCase{
	{"with nothing to ingest a claim is not found", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		f.createReadSet(accountA, st.ID, at(1), nil)
		_, err := f.claim("node-1", at(1000), at(61000))
		wantErr(t, "IngestClaim", err, meta.ErrNotFound)
	}},
	{"a read set an import made is never claimed for ingestion", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		f.createReadSet(accountA, st.ID, at(1), func(r *seqstore.ReadSet) {
			processing(r)
			r.CreationType = seqstore.CreationTypeImport
		})
		upload := f.createReadSet(accountA, st.ID, at(2), processing)
		got, err := f.claim("node-1", at(1000), at(61000))
		must(t, "IngestClaim", err)
		equal(t, "claimed read set", got.ID, upload.ID)
		_, err = f.claim("node-1", at(2000), at(62000))
		wantErr(t, "IngestClaim with only the import's read set left", err, meta.ErrNotFound)
	}},
	{"a claim hands out a read set awaiting ingestion as it is stored", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		want := f.createReadSet(accountA, st.ID, at(1), processing)
		got, err := f.claim("node-1", at(1000), at(61000))
		must(t, "IngestClaim", err)
		equal(t, "the claimed read set", got, want)
	}},
	{"8 concurrent claimers never get the same read set and together get them all", func(t *testing.T, f *fixture) {
		stA := f.createSequenceStore(accountA, at(0))
		stB := f.createSequenceStore(accountB, at(0))
		want := map[string]bool{}
		for i := range 24 {
			account, store := accountA, stA.ID
			if i%3 == 0 {
				account, store = accountB, stB.ID
			}
			want[f.createReadSet(account, store, at(i), processing).ID] = true
		}
		for _, status := range []string{seqstore.ReadSetStatusActive, seqstore.ReadSetStatusUploadFailed, seqstore.ReadSetStatusDeleted, seqstore.ReadSetStatusDeleting} {
			f.createReadSet(accountA, stA.ID, at(5), func(r *seqstore.ReadSet) { r.Status = status })
		}
		const claimers = 8
		now := at(100000)
		claimed := make([][]string, claimers)
		errs := make([]error, claimers)
		race(claimers, func(i int) {
			owner := fmt.Sprintf("node-%d", i)
			for range 100 {
				r, err := f.claim(owner, now, now.Add(time.Hour))
				if errors.Is(err, meta.ErrNotFound) {
					return
				}
				if err != nil {
					errs[i] = err
					return
				}
				claimed[i] = append(claimed[i], r.ID)
			}
			errs[i] = fmt.Errorf("%s claimed 100 read sets out of 24", owner)
		})
		owners := map[string]int{}
		for i := range claimers {
			if errs[i] != nil {
				t.Errorf("claimer %d: %v", i, errs[i])
			}
			for _, id := range claimed[i] {
				if prev, ok := owners[id]; ok {
					t.Errorf("read set %s went to claimer %d and to claimer %d", id, prev, i)
				}
				owners[id] = i
				if !want[id] {
					t.Errorf("claimer %d got read set %s, which does not await ingestion", i, id)
				}
			}
		}
		equal(t, "read sets claimed", len(owners), len(want))
		_, err := f.claim("late", now.Add(30*time.Minute), now.Add(2*time.Hour))
		wantErr(t, "IngestClaim while every lease holds", err, meta.ErrNotFound)
	}},
	{"a lease holds until it expires, and then another owner takes it over", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		r := f.createReadSet(accountA, st.ID, at(1), processing)
		t0 := at(1000)
		steps := []struct {
			name     string
			claim    func() (*seqstore.ReadSet, error)
			wantErr  error
			renew    func() error
			renewErr error
		}{
			{name: "node-1 claims", claim: func() (*seqstore.ReadSet, error) { return f.claim("node-1", t0, t0.Add(time.Minute)) }},
			{name: "node-2 claims while node-1 holds the lease", wantErr: meta.ErrNotFound,
				claim: func() (*seqstore.ReadSet, error) {
					return f.claim("node-2", t0.Add(59*time.Second), t0.Add(2*time.Minute))
				}},
			{name: "node-1 renews in time", renew: func() error {
				return f.s.IngestRenew(f.ctx, accountA, st.ID, r.ID, "node-1", t0.Add(2*time.Minute))
			}},
			{name: "node-2 claims before the renewed lease ends", wantErr: meta.ErrNotFound,
				claim: func() (*seqstore.ReadSet, error) {
					return f.claim("node-2", t0.Add(90*time.Second), t0.Add(3*time.Minute))
				}},
			{name: "node-2 renews a lease it never had", renewErr: meta.ErrConflict, renew: func() error {
				return f.s.IngestRenew(f.ctx, accountA, st.ID, r.ID, "node-2", t0.Add(5*time.Minute))
			}},
			{name: "node-2 claims after the lease expired",
				claim: func() (*seqstore.ReadSet, error) {
					return f.claim("node-2", t0.Add(2*time.Minute+time.Second), t0.Add(10*time.Minute))
				}},
			{name: "node-1 renews the lease it lost", renewErr: meta.ErrConflict, renew: func() error {
				return f.s.IngestRenew(f.ctx, accountA, st.ID, r.ID, "node-1", t0.Add(20*time.Minute))
			}},
			{name: "node-3 claims while node-2 holds the lease", wantErr: meta.ErrNotFound,
				claim: func() (*seqstore.ReadSet, error) {
					return f.claim("node-3", t0.Add(9*time.Minute), t0.Add(30*time.Minute))
				}},
		}
		for _, s := range steps {
			if s.claim != nil {
				got, err := s.claim()
				wantErr(t, s.name, err, s.wantErr)
				if s.wantErr == nil && err == nil {
					equal(t, s.name+": read set", got.ID, r.ID)
				}
			}
			if s.renew != nil {
				wantErr(t, s.name, s.renew(), s.renewErr)
			}
			if t.Failed() {
				t.Fatalf("stopped after %q", s.name)
			}
		}
	}},
	{"a read set that leaves PROCESSING_UPLOAD can be neither renewed nor claimed", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		r := f.createReadSet(accountA, st.ID, at(1), processing)
		got, err := f.claim("node-1", at(1000), at(61000))
		must(t, "IngestClaim", err)
		got.Status, got.UpdatedAt = seqstore.ReadSetStatusActive, at(2000)
		must(t, "ReadSetUpdate", f.s.ReadSetUpdate(f.ctx, got, seqstore.ReadSetStatusProcessingUpload))
		wantErr(t, "IngestRenew", f.s.IngestRenew(f.ctx, accountA, st.ID, r.ID, "node-1", at(90000)), meta.ErrConflict)
		_, err = f.claim("node-2", at(100000000), at(100060000))
		wantErr(t, "IngestClaim", err, meta.ErrNotFound)
	}},
	{"a free lease belongs to no one: an empty owner can neither renew nor release it", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		r := f.createReadSet(accountA, st.ID, at(1), processing)
		wantErr(t, "IngestRenew of an unclaimed read set", f.s.IngestRenew(f.ctx, accountA, st.ID, r.ID, "", at(90000)), meta.ErrConflict)
		wantErr(t, "IngestRelease of an unclaimed read set", f.s.IngestRelease(f.ctx, accountA, st.ID, r.ID, ""), meta.ErrConflict)
		_, err := f.claim("node-1", at(1000), at(61000))
		must(t, "IngestClaim", err)
		must(t, "IngestRelease", f.s.IngestRelease(f.ctx, accountA, st.ID, r.ID, "node-1"))
		wantErr(t, "IngestRenew after the release", f.s.IngestRenew(f.ctx, accountA, st.ID, r.ID, "", at(90000)), meta.ErrConflict)
		got, err := f.claim("node-2", at(2000), at(62000))
		must(t, "IngestClaim after the release", err)
		equal(t, "claimed read set", got.ID, r.ID)
	}},
	{"renewing a lease on a missing read set is a conflict", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		wantErr(t, "IngestRenew", f.s.IngestRenew(f.ctx, accountA, st.ID, "0000000000", "node-1", at(1)), meta.ErrConflict)
	}},
	{"expired leases are handed out again until every read set is claimed once per round", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		var want []string
		for i := range 3 {
			want = append(want, f.createReadSet(accountA, st.ID, at(i), processing).ID)
		}
		sort.Strings(want)
		for round, now := range []time.Time{at(1000), at(2000)} {
			var got []string
			for {
				r, err := f.claim(fmt.Sprintf("round-%d", round), now, now.Add(500*time.Millisecond))
				if errors.Is(err, meta.ErrNotFound) {
					break
				}
				must(t, "IngestClaim", err)
				got = append(got, r.ID)
				if len(got) > len(want) {
					t.Fatalf("round %d claimed %v", round, got)
				}
			}
			sort.Strings(got)
			equal(t, fmt.Sprintf("read sets claimed in round %d", round), got, want)
		}
	}},
	{"each claim counts an attempt, and a release takes it back", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		r := f.createReadSet(accountA, st.ID, at(1), processing)
		lease := time.Minute
		t0 := at(1000)
		steps := []struct {
			name        string
			now         time.Time
			release     string // owner to release as, instead of claiming
			wantAttempt int
			wantErr     error
		}{
			{name: "first claim", now: t0, wantAttempt: 1},
			{name: "claim after the first lease ran out", now: t0.Add(2 * lease), wantAttempt: 2},
			{name: "release by a node without the lease", release: "node-x", wantErr: meta.ErrConflict},
			{name: "release by the holder", release: "node-1"},
			{name: "claim at once after the release", now: t0.Add(2*lease + time.Second), wantAttempt: 2},
			{name: "claim after that lease ran out", now: t0.Add(4 * lease), wantAttempt: 3},
		}
		for _, s := range steps {
			if s.release != "" {
				wantErr(t, s.name, f.s.IngestRelease(f.ctx, accountA, st.ID, r.ID, s.release), s.wantErr)
				continue
			}
			got, attempt, err := f.s.IngestClaim(f.ctx, "node-1", s.now, s.now.Add(lease))
			must(t, s.name, err)
			equal(t, s.name+": read set", got.ID, r.ID)
			equal(t, s.name+": attempt", attempt, s.wantAttempt)
		}
		got, err := f.s.ReadSetGet(f.ctx, accountA, st.ID, r.ID)
		must(t, "ReadSetGet", err)
		got.Status, got.StatusMessage = seqstore.ReadSetStatusUploadFailed, "failed"
		must(t, "ReadSetUpdate", f.s.ReadSetUpdate(f.ctx, got, seqstore.ReadSetStatusProcessingUpload))
		wantErr(t, "release of a read set that left PROCESSING_UPLOAD", f.s.IngestRelease(f.ctx, accountA, st.ID, r.ID, "node-1"), meta.ErrConflict)
	}},
	{"claims take turns across accounts instead of emptying one account's queue first", func(t *testing.T, f *fixture) {
		stA := f.createSequenceStore(accountA, at(0))
		stB := f.createSequenceStore(accountB, at(0))
		names := map[string]string{}
		add := func(account, store, name string, created int) {
			names[f.createReadSet(account, store, at(created), processing).ID] = name
		}
		for i := range 4 {
			add(accountA, stA.ID, fmt.Sprintf("A%d", i+1), 1+i)
		}
		add(accountB, stB.ID, "B1", 10)
		add(accountB, stB.ID, "B2", 11)
		// Every lease holds, so each claim sees the ones before it running.
		now := at(100000)
		var got []string
		for {
			r, err := f.claim("node-1", now, now.Add(time.Hour))
			if errors.Is(err, meta.ErrNotFound) {
				break
			}
			must(t, "IngestClaim", err)
			got = append(got, names[r.ID])
		}
		equal(t, "claim order", got, []string{"A1", "B1", "A2", "B2", "A3", "A4"})
	}},
	{"an account with nothing running goes before an older queue of an account with ingestions running", func(t *testing.T, f *fixture) {
		stA := f.createSequenceStore(accountA, at(0))
		stB := f.createSequenceStore(accountB, at(0))
		f.createReadSet(accountA, stA.ID, at(1), processing)
		f.createReadSet(accountA, stA.ID, at(2), processing)
		f.createReadSet(accountA, stA.ID, at(3), processing)
		// Two nodes each took one of A's read sets while nothing else
		// waited; then B's read set arrives.
		now := at(100000)
		for _, node := range []string{"node-1", "node-2"} {
			_, err := f.claim(node, now.Add(-time.Minute), now.Add(time.Hour))
			must(t, "IngestClaim", err)
		}
		waitingB := f.createReadSet(accountB, stB.ID, at(50), processing)
		got, err := f.claim("node-3", now, now.Add(time.Hour))
		must(t, "IngestClaim", err)
		equal(t, "claimed read set", got.ID, waitingB.ID)
		// Leases that ran out no longer count as running.
		later := now.Add(2 * time.Hour)
		got, err = f.claim("node-3", later, later.Add(time.Hour))
		must(t, "IngestClaim", err)
		if got.AccountID != accountA {
			t.Errorf("after every lease ran out the claim took %s of account %s, want account A's oldest", got.ID, got.AccountID)
		}
	}},
}

// claim is IngestClaim for cases that do not look at the attempt count.
func (f *fixture) claim(owner string, now, leaseUntil time.Time) (*seqstore.ReadSet, error) {
	rs, _, err := f.s.IngestClaim(f.ctx, owner, now, leaseUntil)
	return rs, err
}
