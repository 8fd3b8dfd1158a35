package metatest

import (
	"testing"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

var lifecycleCases = []suiteCase{
	{"a new read set counts as last read when it was created", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		r := f.createReadSet(accountA, st.ID, at(10), func(r *seqstore.ReadSet) { r.LastReadAt = seqstore.ReadSet{}.LastReadAt })
		got, err := f.s.ReadSetGet(f.ctx, accountA, st.ID, r.ID)
		must(t, "ReadSetGet", err)
		equal(t, "LastReadAt", got.LastReadAt, at(10))
	}},
	{"a touch moves the last read forward only", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		r := f.createReadSet(accountA, st.ID, at(10), nil)
		must(t, "ReadSetTouch", f.s.ReadSetTouch(f.ctx, accountA, st.ID, r.ID, at(50)))
		must(t, "ReadSetTouch earlier", f.s.ReadSetTouch(f.ctx, accountA, st.ID, r.ID, at(20)))
		got, err := f.s.ReadSetGet(f.ctx, accountA, st.ID, r.ID)
		must(t, "ReadSetGet", err)
		equal(t, "LastReadAt", got.LastReadAt, at(50))
		// An update leaves it as it is.
		got.Status = seqstore.ReadSetStatusArchived
		must(t, "ReadSetUpdate", f.s.ReadSetUpdate(f.ctx, got, seqstore.ReadSetStatusActive))
		again, err := f.s.ReadSetGet(f.ctx, accountA, st.ID, r.ID)
		must(t, "ReadSetGet", err)
		equal(t, "LastReadAt after an update", again.LastReadAt, at(50))
		wantErr(t, "ReadSetTouch of a missing read set", f.s.ReadSetTouch(f.ctx, accountA, st.ID, "0000000000", at(60)), meta.ErrNotFound)
		wantErr(t, "ReadSetTouch from another account", f.s.ReadSetTouch(f.ctx, accountB, st.ID, r.ID, at(60)), meta.ErrNotFound)
	}},
	{"idle read sets are the ACTIVE ones unread since the cutoff, longest unread first, across accounts", func(t *testing.T, f *fixture) {
		a := f.createSequenceStore(accountA, at(0))
		b := f.createSequenceStore(accountB, at(0))
		old := f.createReadSet(accountA, a.ID, at(10), nil)
		older := f.createReadSet(accountB, b.ID, at(5), nil)
		f.createReadSet(accountA, a.ID, at(100), nil) // read recently
		f.createReadSet(accountA, a.ID, at(1), func(r *seqstore.ReadSet) { r.Status = seqstore.ReadSetStatusArchived })
		f.createReadSet(accountA, a.ID, at(2), func(r *seqstore.ReadSet) { r.Status = seqstore.ReadSetStatusProcessingUpload })
		touched := f.createReadSet(accountA, a.ID, at(3), nil)
		must(t, "ReadSetTouch", f.s.ReadSetTouch(f.ctx, accountA, a.ID, touched.ID, at(200)))
		got, err := f.s.ReadSetsIdle(f.ctx, at(50), 10)
		must(t, "ReadSetsIdle", err)
		ids := make([]string, len(got))
		for i, r := range got {
			ids[i] = r.ID
		}
		equal(t, "idle read sets", ids, []string{older.ID, old.ID})
		got, err = f.s.ReadSetsIdle(f.ctx, at(50), 1)
		must(t, "ReadSetsIdle with a limit", err)
		equal(t, "idle read sets, limit 1", len(got), 1)
	}},
	{"a purge removes the DELETED read sets deleted before the cutoff, across accounts, and nothing else", func(t *testing.T, f *fixture) {
		a := f.createSequenceStore(accountA, at(0))
		b := f.createSequenceStore(accountB, at(0))
		deleted := func(r *seqstore.ReadSet) { r.Status = seqstore.ReadSetStatusDeleted }
		gone := f.createReadSet(accountA, a.ID, at(10), deleted)
		goneB := f.createReadSet(accountB, b.ID, at(20), deleted)
		recent := f.createReadSet(accountA, a.ID, at(60), deleted)
		active := f.createReadSet(accountA, a.ID, at(1), nil)
		n, err := f.s.ReadSetsPurgeDeleted(f.ctx, at(50))
		must(t, "ReadSetsPurgeDeleted", err)
		equal(t, "rows purged", n, int64(2))
		for _, r := range []*seqstore.ReadSet{gone, goneB} {
			_, err := f.s.ReadSetGet(f.ctx, r.AccountID, r.StoreID, r.ID)
			wantErr(t, "ReadSetGet of a purged read set", err, meta.ErrNotFound)
		}
		for _, r := range []*seqstore.ReadSet{recent, active} {
			_, err := f.s.ReadSetGet(f.ctx, r.AccountID, r.StoreID, r.ID)
			must(t, "ReadSetGet of a kept read set", err)
		}
	}},
	{"an activation job ID is written by an update and read back", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		r := f.createReadSet(accountA, st.ID, at(10), func(r *seqstore.ReadSet) { r.Status = seqstore.ReadSetStatusArchived })
		r.Status, r.ActivationJobID = seqstore.ReadSetStatusActivating, "7777777777"
		must(t, "ReadSetUpdate", f.s.ReadSetUpdate(f.ctx, r, seqstore.ReadSetStatusArchived))
		got, err := f.s.ReadSetGet(f.ctx, accountA, st.ID, r.ID)
		must(t, "ReadSetGet", err)
		equal(t, "the read set", got, r)
	}},
}
