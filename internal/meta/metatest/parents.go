package metatest

import (
	"errors"
	"testing"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

var parentCases = []suiteCase{
	{"a child whose parent is missing or another account's is not found", func(t *testing.T, f *fixture) {
		stA := f.createSequenceStore(accountA, at(0))
		refStA := f.createReferenceStore(accountA, at(0))
		const missing = "0000000000"
		key := seqstore.AccessKey{ID: "AKIAORPHAN", Secret: "s", AccountID: "999999999999", CreatedAt: at(1)}
		wantErr(t, "AccessKeyPut for a missing account", f.s.AccessKeyPut(f.ctx, key), meta.ErrNotFound)
		_, err := f.s.AccessKeyGet(f.ctx, key.ID)
		wantErr(t, "AccessKeyGet of the refused key", err, meta.ErrNotFound)
		// Each child kind, in a missing store and in A's store as B.
		for _, store := range []struct {
			name, account, seqID, refID string
		}{
			{"a missing store", accountA, missing, missing},
			{"another account's store", accountB, stA.ID, refStA.ID},
		} {
			rs := f.newReadSet(store.account, store.seqID, at(1))
			wantErr(t, "ReadSetCreate in "+store.name, f.s.ReadSetCreate(f.ctx, rs), meta.ErrNotFound)
			_, err := f.s.ReadSetGet(f.ctx, store.account, store.seqID, rs.ID)
			wantErr(t, "ReadSetGet of the refused read set", err, meta.ErrNotFound)

			u := f.newUpload(store.account, store.seqID, at(1))
			wantErr(t, "UploadCreate in "+store.name, f.s.UploadCreate(f.ctx, u), meta.ErrNotFound)
			_, err = f.s.UploadGet(f.ctx, store.account, store.seqID, u.ID)
			wantErr(t, "UploadGet of the refused upload", err, meta.ErrNotFound)

			ref := f.newReference(store.account, store.refID, at(1))
			wantErr(t, "ReferenceCreate in "+store.name, f.s.ReferenceCreate(f.ctx, ref), meta.ErrNotFound)
			_, err = f.s.ReferenceGet(f.ctx, store.account, store.refID, ref.ID)
			wantErr(t, "ReferenceGet of the refused reference", err, meta.ErrNotFound)
		}
		items, _, err := f.s.ReadSetList(f.ctx, accountA, stA.ID, meta.ReadSetFilter{}, meta.Page{})
		must(t, "ReadSetList", err)
		equal(t, "read sets in A's store", ids(items, readSetID), []string{})
	}},
	{"a part of a missing upload is not found", func(t *testing.T, f *fixture) {
		replaced, err := f.s.UploadPartPut(f.ctx, newPart("0000000000", seqstore.FileSource1, 1, at(1)))
		wantErr(t, "UploadPartPut", err, meta.ErrNotFound)
		if replaced != nil {
			t.Errorf("UploadPartPut replaced %+v", replaced)
		}
		all, err := f.s.UploadPartsAll(f.ctx, "0000000000")
		must(t, "UploadPartsAll", err)
		equal(t, "parts of the missing upload", len(all), 0)
	}},
	{"deleting a sequence store takes its DELETED read sets and finished uploads with it", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		deleted := f.createReadSet(accountA, st.ID, at(1), func(r *seqstore.ReadSet) { r.Status = seqstore.ReadSetStatusDeleted })
		var finished []*seqstore.Upload
		for _, to := range []string{seqstore.UploadStatusCompleted, seqstore.UploadStatusAborted} {
			u := f.createUpload(accountA, st.ID, at(2))
			f.putPart(newPart(u.ID, seqstore.FileSource1, 1, at(3)))
			must(t, "UploadSetStatus", f.s.UploadSetStatus(f.ctx, accountA, st.ID, u.ID, seqstore.UploadStatusInProgress, to))
			finished = append(finished, u)
		}
		must(t, "SequenceStoreDelete", f.s.SequenceStoreDelete(f.ctx, accountA, st.ID))
		_, err := f.s.ReadSetGet(f.ctx, accountA, st.ID, deleted.ID)
		wantErr(t, "ReadSetGet of the DELETED read set", err, meta.ErrNotFound)
		for _, u := range finished {
			_, err := f.s.UploadGet(f.ctx, accountA, st.ID, u.ID)
			wantErr(t, "UploadGet of a finished upload", err, meta.ErrNotFound)
			parts, err := f.s.UploadPartsAll(f.ctx, u.ID)
			must(t, "UploadPartsAll", err)
			equal(t, "parts of a finished upload", len(parts), 0)
		}
		// A store with the same ID starts empty.
		again := f.newSequenceStore(accountA, at(10))
		again.ID = st.ID
		must(t, "SequenceStoreCreate with the freed ID", f.s.SequenceStoreCreate(f.ctx, again))
		items, _, err := f.s.ReadSetList(f.ctx, accountA, st.ID, meta.ReadSetFilter{Status: seqstore.ReadSetStatusDeleted}, meta.Page{})
		must(t, "ReadSetList", err)
		equal(t, "DELETED read sets in the new store", ids(items, readSetID), []string{})
	}},
	{"a sequence store delete racing 8 creates never strands a child", func(t *testing.T, f *fixture) {
		for round := range 5 {
			st := f.createSequenceStore(accountA, at(0))
			const creators = 8
			readSets := make([]*seqstore.ReadSet, creators)
			uploads := make([]*seqstore.Upload, creators)
			for i := range creators {
				readSets[i] = f.newReadSet(accountA, st.ID, at(i))
				uploads[i] = f.newUpload(accountA, st.ID, at(i))
			}
			createErrs := make([]error, creators)
			var deleteErr error
			// The delete runs as racer 0, among the creates.
			race(creators+1, func(i int) {
				c := i - 1 // the creator this racer is
				switch {
				case i == 0:
					deleteErr = f.s.SequenceStoreDelete(f.ctx, accountA, st.ID)
				case c%2 == 0:
					createErrs[c] = f.s.ReadSetCreate(f.ctx, readSets[c])
				default:
					createErrs[c] = f.s.UploadCreate(f.ctx, uploads[c])
				}
			})
			created := 0
			for i, err := range createErrs {
				switch {
				case err == nil:
					created++
				case !errors.Is(err, meta.ErrNotFound):
					t.Errorf("round %d, create %d: got %v, want nil or ErrNotFound", round, i, err)
				}
			}
			switch {
			case deleteErr == nil && created > 0:
				// The creates that went through must be in a store that
				// still exists, which it does not.
				for i := range creators {
					if createErrs[i] != nil {
						continue
					}
					if i%2 == 0 {
						_, err := f.s.ReadSetGet(f.ctx, accountA, st.ID, readSets[i].ID)
						t.Errorf("round %d: the store is deleted, yet read set %s was created (get: %v)", round, readSets[i].ID, err)
					} else {
						_, err := f.s.UploadGet(f.ctx, accountA, st.ID, uploads[i].ID)
						t.Errorf("round %d: the store is deleted, yet upload %s was created (get: %v)", round, uploads[i].ID, err)
					}
				}
			case deleteErr == nil:
				_, err := f.s.SequenceStoreGet(f.ctx, accountA, st.ID)
				wantErr(t, "SequenceStoreGet after the delete", err, meta.ErrNotFound)
			case errors.Is(deleteErr, meta.ErrConflict):
				if created == 0 {
					t.Errorf("round %d: the delete was refused, yet no child was created", round)
				}
			default:
				t.Errorf("round %d: SequenceStoreDelete: %v", round, deleteErr)
			}
		}
	}},
}
