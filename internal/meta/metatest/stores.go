package metatest

import (
	"fmt"
	"testing"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

var sequenceStoreCases = []suiteCase{
	{"a sequence store reads back as it was created", func(t *testing.T, f *fixture) {
		want := f.createSequenceStore(accountA, at(10))
		got, err := f.s.SequenceStoreGet(f.ctx, accountA, want.ID)
		must(t, "SequenceStoreGet", err)
		equal(t, "SequenceStoreGet", got, want)
	}},
	{"a sequence store without propagated tags reads back without them", func(t *testing.T, f *fixture) {
		want := f.newSequenceStore(accountA, at(10))
		want.PropagatedSetLevelTags = nil
		want.SSEKeyArn, want.FallbackLocation, want.AccessLogLocation, want.StatusMessage, want.Description = "", "", "", "", ""
		must(t, "SequenceStoreCreate", f.s.SequenceStoreCreate(f.ctx, want))
		got, err := f.s.SequenceStoreGet(f.ctx, accountA, want.ID)
		must(t, "SequenceStoreGet", err)
		equal(t, "SequenceStoreGet", got, want)
	}},
	{"changing what a get returned changes nothing stored", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(10))
		want := *st
		want.PropagatedSetLevelTags = append([]string(nil), st.PropagatedSetLevelTags...)
		for round := range 2 {
			got, err := f.s.SequenceStoreGet(f.ctx, accountA, st.ID)
			must(t, "SequenceStoreGet", err)
			equal(t, fmt.Sprintf("get %d", round), got, &want)
			got.Name, got.Status, got.PropagatedSetLevelTags[0] = "scribbled", "SCRIBBLED", "scribbled"
			st.Name, st.PropagatedSetLevelTags[0] = "scribbled too", "scribbled too"
		}
		items, _, err := f.s.SequenceStoreList(f.ctx, accountA, meta.SequenceStoreFilter{}, meta.Page{})
		must(t, "SequenceStoreList", err)
		items[0].Name = "scribbled"
		got, err := f.s.SequenceStoreGet(f.ctx, accountA, st.ID)
		must(t, "SequenceStoreGet", err)
		equal(t, "get after scribbling on a listed store", got, &want)
	}},
	{"a sequence store ID can be created only once", func(t *testing.T, f *fixture) {
		first := f.createSequenceStore(accountA, at(10))
		again := f.newSequenceStore(accountA, at(20))
		again.ID = first.ID
		wantErr(t, "SequenceStoreCreate of an existing ID", f.s.SequenceStoreCreate(f.ctx, again), meta.ErrConflict)
		got, err := f.s.SequenceStoreGet(f.ctx, accountA, first.ID)
		must(t, "SequenceStoreGet", err)
		equal(t, "the store after the refused create", got, first)
	}},
	{"a sequence store update writes the mutable fields", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(10))
		st.Name, st.Description = "renamed", "new description"
		st.FallbackLocation, st.AccessLogLocation = "s3://elsewhere/", "s3://other-logs/"
		st.PropagatedSetLevelTags = []string{"cost-centre"}
		st.Status, st.StatusMessage = "UPDATING", "moving"
		st.UpdatedAt = at(99)
		must(t, "SequenceStoreUpdate", f.s.SequenceStoreUpdate(f.ctx, st))
		got, err := f.s.SequenceStoreGet(f.ctx, accountA, st.ID)
		must(t, "SequenceStoreGet", err)
		equal(t, "the updated store", got, st)
	}},
	{"updating a missing sequence store is not found", func(t *testing.T, f *fixture) {
		wantErr(t, "SequenceStoreUpdate", f.s.SequenceStoreUpdate(f.ctx, f.newSequenceStore(accountA, at(1))), meta.ErrNotFound)
	}},
	{"a deleted sequence store is gone", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(10))
		keep := f.createSequenceStore(accountA, at(11))
		must(t, "SequenceStoreDelete", f.s.SequenceStoreDelete(f.ctx, accountA, st.ID))
		_, err := f.s.SequenceStoreGet(f.ctx, accountA, st.ID)
		wantErr(t, "SequenceStoreGet after delete", err, meta.ErrNotFound)
		wantErr(t, "SequenceStoreDelete again", f.s.SequenceStoreDelete(f.ctx, accountA, st.ID), meta.ErrNotFound)
		got, err := f.s.SequenceStoreGet(f.ctx, accountA, keep.ID)
		must(t, "SequenceStoreGet of the other store", err)
		equal(t, "the other store", got, keep)
	}},
	{"a missing sequence store is not found", func(t *testing.T, f *fixture) {
		_, err := f.s.SequenceStoreGet(f.ctx, accountA, "0000000000")
		wantErr(t, "SequenceStoreGet", err, meta.ErrNotFound)
		wantErr(t, "SequenceStoreDelete", f.s.SequenceStoreDelete(f.ctx, accountA, "0000000000"), meta.ErrNotFound)
	}},
	{"a sequence store that holds read sets or uploads in progress cannot be deleted", func(t *testing.T, f *fixture) {
		for _, c := range []struct {
			name     string
			fill     func(f *fixture, storeID string)
			conflict bool
		}{
			{"empty", func(*fixture, string) {}, false},
			{"an ACTIVE read set", func(f *fixture, id string) { f.createReadSet(accountA, id, at(1), nil) }, true},
			{"a PROCESSING_UPLOAD read set", func(f *fixture, id string) {
				f.createReadSet(accountA, id, at(1), func(r *seqstore.ReadSet) { r.Status = seqstore.ReadSetStatusProcessingUpload })
			}, true},
			{"an UPLOAD_FAILED read set", func(f *fixture, id string) {
				f.createReadSet(accountA, id, at(1), func(r *seqstore.ReadSet) { r.Status = seqstore.ReadSetStatusUploadFailed })
			}, true},
			{"a DELETING read set", func(f *fixture, id string) {
				f.createReadSet(accountA, id, at(1), func(r *seqstore.ReadSet) { r.Status = seqstore.ReadSetStatusDeleting })
			}, true},
			{"only DELETED read sets", func(f *fixture, id string) {
				f.createReadSet(accountA, id, at(1), func(r *seqstore.ReadSet) { r.Status = seqstore.ReadSetStatusDeleted })
				f.createReadSet(accountA, id, at(2), func(r *seqstore.ReadSet) { r.Status = seqstore.ReadSetStatusDeleted })
			}, false},
			{"an upload in progress", func(f *fixture, id string) { f.createUpload(accountA, id, at(1)) }, true},
			{"an upload in progress with parts", func(f *fixture, id string) {
				u := f.createUpload(accountA, id, at(1))
				f.putPart(newPart(u.ID, seqstore.FileSource1, 1, at(2)))
			}, true},
			{"completed and aborted uploads", func(f *fixture, id string) {
				for _, to := range []string{seqstore.UploadStatusCompleted, seqstore.UploadStatusAborted} {
					u := f.createUpload(accountA, id, at(1))
					f.putPart(newPart(u.ID, seqstore.FileSource1, 1, at(2)))
					must(f.t, "UploadSetStatus", f.s.UploadSetStatus(f.ctx, accountA, id, u.ID, seqstore.UploadStatusInProgress, to))
				}
			}, false},
		} {
			t.Run(c.name, func(t *testing.T) {
				f := f.in(t)
				st := f.createSequenceStore(accountA, at(0))
				c.fill(f, st.ID)
				// The same content in account B's store must not matter.
				other := f.createSequenceStore(accountB, at(0))
				f.createReadSet(accountB, other.ID, at(1), nil)
				f.createUpload(accountB, other.ID, at(1))

				err := f.s.SequenceStoreDelete(f.ctx, accountA, st.ID)
				readSets, _, lerr := f.s.ReadSetList(f.ctx, accountA, st.ID, meta.ReadSetFilter{}, meta.Page{})
				must(t, "ReadSetList", lerr)
				if c.conflict {
					wantErr(t, "SequenceStoreDelete", err, meta.ErrConflict)
					got, gerr := f.s.SequenceStoreGet(f.ctx, accountA, st.ID)
					must(t, "SequenceStoreGet after the refused delete", gerr)
					equal(t, "the store after the refused delete", got, st)
					uploads, _, uerr := f.s.UploadList(f.ctx, accountA, st.ID, meta.UploadFilter{}, meta.Page{})
					must(t, "UploadList", uerr)
					if len(readSets)+len(uploads) == 0 {
						t.Errorf("the refused delete removed the store's contents")
					}
					return
				}
				wantErr(t, "SequenceStoreDelete", err, nil)
				_, gerr := f.s.SequenceStoreGet(f.ctx, accountA, st.ID)
				wantErr(t, "SequenceStoreGet after delete", gerr, meta.ErrNotFound)
				equal(t, "read sets listed in the deleted store", len(readSets), 0)
			})
		}
	}},
	{"the sequence store list filters on every field", func(t *testing.T, f *fixture) {
		s1 := f.newSequenceStore(accountA, at(100))
		s1.Name, s1.UpdatedAt = "alpha", at(500)
		s2 := f.newSequenceStore(accountA, at(200))
		s2.Name, s2.Status, s2.UpdatedAt = "beta", "UPDATING", at(300)
		s3 := f.newSequenceStore(accountA, at(300))
		s3.Name, s3.Status, s3.UpdatedAt = "alpha", "UPDATING", at(400)
		sb := f.newSequenceStore(accountB, at(200))
		sb.Name = "alpha"
		for _, st := range []*seqstore.SequenceStore{s1, s2, s3, sb} {
			must(t, "SequenceStoreCreate", f.s.SequenceStoreCreate(f.ctx, st))
		}
		for _, c := range []struct {
			name   string
			filter meta.SequenceStoreFilter
			want   []string
		}{
			{"no filter", meta.SequenceStoreFilter{}, []string{s1.ID, s2.ID, s3.ID}},
			{"name", meta.SequenceStoreFilter{Name: "alpha"}, []string{s1.ID, s3.ID}},
			{"a name no store has", meta.SequenceStoreFilter{Name: "alp"}, []string{}},
			{"status", meta.SequenceStoreFilter{Status: "UPDATING"}, []string{s2.ID, s3.ID}},
			{"name and status", meta.SequenceStoreFilter{Name: "alpha", Status: seqstore.StoreStatusActive}, []string{s1.ID}},
			{"created on or after", meta.SequenceStoreFilter{Created: meta.TimeRange{After: at(200)}}, []string{s2.ID, s3.ID}},
			{"created on or before", meta.SequenceStoreFilter{Created: meta.TimeRange{Before: at(200)}}, []string{s1.ID, s2.ID}},
			{"created within one millisecond", meta.SequenceStoreFilter{Created: meta.TimeRange{After: at(200), Before: at(200)}}, []string{s2.ID}},
			{"created in an empty range", meta.SequenceStoreFilter{Created: meta.TimeRange{After: at(201), Before: at(299)}}, []string{}},
			{"updated on or after", meta.SequenceStoreFilter{Updated: meta.TimeRange{After: at(400)}}, []string{s1.ID, s3.ID}},
			{"updated on or before", meta.SequenceStoreFilter{Updated: meta.TimeRange{Before: at(399)}}, []string{s2.ID}},
			{"updated within a range", meta.SequenceStoreFilter{Updated: meta.TimeRange{After: at(300), Before: at(400)}}, []string{s2.ID, s3.ID}},
			{"created and updated", meta.SequenceStoreFilter{Created: meta.TimeRange{After: at(200)}, Updated: meta.TimeRange{After: at(400)}}, []string{s3.ID}},
		} {
			t.Run(c.name, func(t *testing.T) {
				items, next, err := f.s.SequenceStoreList(f.ctx, accountA, c.filter, meta.Page{})
				must(t, "SequenceStoreList", err)
				equal(t, "stores listed", ids(items, sequenceStoreID), c.want)
				equal(t, "next page key", next, "")
			})
		}
		items, _, err := f.s.SequenceStoreList(f.ctx, accountA, meta.SequenceStoreFilter{}, meta.Page{})
		must(t, "SequenceStoreList", err)
		equal(t, "listed stores", items, []*seqstore.SequenceStore{s1, s2, s3})
	}},
}
