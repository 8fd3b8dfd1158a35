package metatest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

var readSetCases = []suiteCase{
	{"a read set reads back as it was created", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		want := f.createReadSet(accountA, st.ID, at(10), nil)
		got, err := f.s.ReadSetGet(f.ctx, accountA, st.ID, want.ID)
		must(t, "ReadSetGet", err)
		equal(t, "ReadSetGet", got, want)
	}},
	{"a read set without optional parts reads back without them", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		want := f.createReadSet(accountA, st.ID, at(10), func(r *seqstore.ReadSet) {
			r.SequenceInformation, r.ETag, r.Files, r.Tags, r.SourceParts = nil, nil, nil, nil, nil
			r.Description, r.ReferenceArn, r.StatusMessage, r.UploadID = "", "", "", ""
		})
		got, err := f.s.ReadSetGet(f.ctx, accountA, st.ID, want.ID)
		must(t, "ReadSetGet", err)
		equal(t, "ReadSetGet", got, want)
	}},
	{"changing what a read set get returned changes nothing stored", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		r := f.createReadSet(accountA, st.ID, at(10), nil)
		want := f.newReadSet(accountA, st.ID, at(10)) // the same values, unshared
		want.ID, want.Name, want.Description, want.CreationJobID, want.UploadID = r.ID, r.Name, r.Description, r.CreationJobID, r.UploadID
		want.ETag, want.Files = &seqstore.ETag{Algorithm: r.ETag.Algorithm, Source1: r.ETag.Source1, Source2: r.ETag.Source2}, nil
		want.Files = append(want.Files, r.Files...)
		want.SourceParts = append([]seqstore.UploadPart(nil), r.SourceParts...)
		r.Tags["project"], r.Files[0].Key, r.ETag.Source1, r.SourceParts[0].Key = "scribbled", "scribbled", "scribbled", "scribbled"
		for round := range 2 {
			got, err := f.s.ReadSetGet(f.ctx, accountA, st.ID, r.ID)
			must(t, "ReadSetGet", err)
			equal(t, fmt.Sprint("get ", round), got, want)
			got.Tags["project"], got.Files[0].Key, got.ETag.Source1, got.SequenceInformation.TotalReadCount = "scribbled", "scribbled", "scribbled", -1
			got.SourceParts[0].Key = "scribbled"
		}
	}},
	{"a read set is found only in its own store", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		other := f.createSequenceStore(accountA, at(1))
		r := f.createReadSet(accountA, st.ID, at(10), nil)
		_, err := f.s.ReadSetGet(f.ctx, accountA, other.ID, r.ID)
		wantErr(t, "ReadSetGet through another store", err, meta.ErrNotFound)
		wantErr(t, "ReadSetDelete through another store", f.s.ReadSetDelete(f.ctx, accountA, other.ID, r.ID), meta.ErrNotFound)
		moved := *r
		moved.StoreID = other.ID
		wantErr(t, "ReadSetUpdate through another store", f.s.ReadSetUpdate(f.ctx, &moved, r.Status), meta.ErrNotFound)
		got, err := f.s.ReadSetGet(f.ctx, accountA, st.ID, r.ID)
		must(t, "ReadSetGet", err)
		equal(t, "the read set", got, r)
	}},
	{"a read set ID can be created only once", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		first := f.createReadSet(accountA, st.ID, at(10), nil)
		again := f.newReadSet(accountA, st.ID, at(20))
		again.ID = first.ID
		wantErr(t, "ReadSetCreate of an existing ID", f.s.ReadSetCreate(f.ctx, again), meta.ErrConflict)
		got, err := f.s.ReadSetGet(f.ctx, accountA, st.ID, first.ID)
		must(t, "ReadSetGet", err)
		equal(t, "the read set after the refused create", got, first)
	}},
	{"a read set update from the stored status writes every field", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		r := f.createReadSet(accountA, st.ID, at(10), func(r *seqstore.ReadSet) {
			r.Status = seqstore.ReadSetStatusProcessingUpload
			r.SequenceInformation, r.ETag, r.Files = nil, nil, nil
		})
		r.Name, r.Description, r.SubjectID, r.SampleID = "new name", "new description", "subject-9", "sample-9"
		r.Status, r.StatusMessage = seqstore.ReadSetStatusActive, "done"
		r.ReferenceArn, r.GeneratedFrom = "arn:aws:omics:us-east-1:111111111111:referenceStore/1/reference/2", "sequencer-9"
		r.SequenceInformation = &seqstore.SequenceInformation{TotalReadCount: 7, TotalBaseCount: 700, Alignment: "ALIGNED"}
		r.ETag = &seqstore.ETag{Algorithm: "BAM_MD5up", Source1: "ff"}
		r.Files = []seqstore.StoredFile{{Kind: seqstore.FileSource1, Key: "k", Name: "n.bam", ContentLength: 9, PartSize: 5}}
		r.Tags = map[string]string{"only": "this"}
		r.FileType, r.CreationType, r.CreationJobID, r.UploadID = seqstore.FileTypeBAM, seqstore.CreationTypeImport, "job-9", "upload-9"
		r.UpdatedAt = at(500)
		must(t, "ReadSetUpdate", f.s.ReadSetUpdate(f.ctx, r, seqstore.ReadSetStatusProcessingUpload))
		got, err := f.s.ReadSetGet(f.ctx, accountA, st.ID, r.ID)
		must(t, "ReadSetGet", err)
		equal(t, "the updated read set", got, r)
	}},
	{"a read set update from the wrong status is a conflict and changes nothing", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		for _, from := range []string{
			seqstore.ReadSetStatusActive, seqstore.ReadSetStatusDeleted, seqstore.ReadSetStatusUploadFailed, "", "processing_upload",
		} {
			t.Run("from "+from, func(t *testing.T) {
				f := f.in(t)
				stored := f.createReadSet(accountA, st.ID, at(10), func(r *seqstore.ReadSet) { r.Status = seqstore.ReadSetStatusProcessingUpload })
				next := *stored
				next.Status, next.Name, next.UpdatedAt = seqstore.ReadSetStatusActive, "changed", at(99)
				wantErr(t, "ReadSetUpdate", f.s.ReadSetUpdate(f.ctx, &next, from), meta.ErrConflict)
				got, err := f.s.ReadSetGet(f.ctx, accountA, st.ID, stored.ID)
				must(t, "ReadSetGet", err)
				equal(t, "the read set after the refused update", got, stored)
			})
		}
	}},
	{"of 8 concurrent updates from one status exactly one succeeds", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		r := f.createReadSet(accountA, st.ID, at(10), func(r *seqstore.ReadSet) { r.Status = seqstore.ReadSetStatusProcessingUpload })
		const racers = 8
		errs := make([]error, racers)
		race(racers, func(i int) {
			next := *r
			next.Status, next.StatusMessage, next.UpdatedAt = seqstore.ReadSetStatusActive, fmt.Sprint("winner ", i), at(100+i)
			errs[i] = f.s.ReadSetUpdate(f.ctx, &next, seqstore.ReadSetStatusProcessingUpload)
		})
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("updates %d and %d both succeeded", winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, meta.ErrConflict):
				t.Errorf("update %d: got %v, want nil or ErrConflict", i, err)
			}
		}
		if winner < 0 {
			t.Fatal("no update succeeded")
		}
		got, err := f.s.ReadSetGet(f.ctx, accountA, st.ID, r.ID)
		must(t, "ReadSetGet", err)
		equal(t, "the stored status message", got.StatusMessage, fmt.Sprint("winner ", winner))
	}},
	{"a read set's QC report is kept, replaced, scoped to its account and store, and deleted with it", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		other := f.createSequenceStore(accountA, at(1))
		r := f.createReadSet(accountA, st.ID, at(10), nil)
		_, err := f.s.ReadSetQCGet(f.ctx, accountA, st.ID, r.ID)
		wantErr(t, "ReadSetQCGet before any", err, meta.ErrNotFound)
		wantErr(t, "ReadSetQCPut of a missing read set", f.s.ReadSetQCPut(f.ctx, accountA, st.ID, f.id(), []byte(`{}`)), meta.ErrNotFound)
		wantErr(t, "ReadSetQCPut through another store", f.s.ReadSetQCPut(f.ctx, accountA, other.ID, r.ID, []byte(`{}`)), meta.ErrNotFound)
		wantErr(t, "ReadSetQCPut through another account", f.s.ReadSetQCPut(f.ctx, accountB, st.ID, r.ID, []byte(`{}`)), meta.ErrNotFound)
		must(t, "ReadSetQCPut", f.s.ReadSetQCPut(f.ctx, accountA, st.ID, r.ID, []byte(`{"fileType":"BAM"}`)))
		must(t, "ReadSetQCPut again", f.s.ReadSetQCPut(f.ctx, accountA, st.ID, r.ID, []byte(`{"fileType":"FASTQ"}`)))
		got, err := f.s.ReadSetQCGet(f.ctx, accountA, st.ID, r.ID)
		must(t, "ReadSetQCGet", err)
		equal(t, "the report", string(got), `{"fileType":"FASTQ"}`)
		for _, c := range []struct{ what, account, store string }{{"another store", accountA, other.ID}, {"another account", accountB, st.ID}} {
			_, err := f.s.ReadSetQCGet(f.ctx, c.account, c.store, r.ID)
			wantErr(t, "ReadSetQCGet through "+c.what, err, meta.ErrNotFound)
		}
		must(t, "ReadSetDelete", f.s.ReadSetDelete(f.ctx, accountA, st.ID, r.ID))
		_, err = f.s.ReadSetQCGet(f.ctx, accountA, st.ID, r.ID)
		wantErr(t, "ReadSetQCGet after the read set's delete", err, meta.ErrNotFound)
	}},
	{"updating a missing read set is not found", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		r := f.newReadSet(accountA, st.ID, at(1))
		wantErr(t, "ReadSetUpdate", f.s.ReadSetUpdate(f.ctx, r, r.Status), meta.ErrNotFound)
	}},
	{"a deleted read set is gone for good", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		r := f.createReadSet(accountA, st.ID, at(10), nil)
		keep := f.createReadSet(accountA, st.ID, at(11), nil)
		must(t, "ReadSetDelete", f.s.ReadSetDelete(f.ctx, accountA, st.ID, r.ID))
		_, err := f.s.ReadSetGet(f.ctx, accountA, st.ID, r.ID)
		wantErr(t, "ReadSetGet after delete", err, meta.ErrNotFound)
		wantErr(t, "ReadSetDelete again", f.s.ReadSetDelete(f.ctx, accountA, st.ID, r.ID), meta.ErrNotFound)
		items, _, err := f.s.ReadSetList(f.ctx, accountA, st.ID, meta.ReadSetFilter{Status: seqstore.ReadSetStatusDeleted}, meta.Page{})
		must(t, "ReadSetList DELETED", err)
		equal(t, "DELETED read sets after a delete", ids(items, readSetID), []string{})
		items, _, err = f.s.ReadSetList(f.ctx, accountA, st.ID, meta.ReadSetFilter{}, meta.Page{})
		must(t, "ReadSetList", err)
		equal(t, "read sets after a delete", items, []*seqstore.ReadSet{keep})
	}},
	{"read sets are counted by reference in every status but DELETED", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		refX := "arn:aws:omics:us-east-1:111111111111:referenceStore/1/reference/10"
		refY := "arn:aws:omics:us-east-1:111111111111:referenceStore/1/reference/11"
		for i, c := range []struct{ ref, status string }{
			{refX, seqstore.ReadSetStatusActive},
			{refX, seqstore.ReadSetStatusProcessingUpload},
			{refX, seqstore.ReadSetStatusUploadFailed},
			{refX, seqstore.ReadSetStatusDeleting},
			{refX, seqstore.ReadSetStatusDeleted},
			{refY, seqstore.ReadSetStatusActive},
			{"", seqstore.ReadSetStatusActive},
		} {
			f.createReadSet(accountA, st.ID, at(i), func(r *seqstore.ReadSet) { r.ReferenceArn, r.Status = c.ref, c.status })
		}
		// Account B's read sets naming the same ARN are not A's concern.
		stB := f.createSequenceStore(accountB, at(0))
		f.createReadSet(accountB, stB.ID, at(0), func(r *seqstore.ReadSet) { r.ReferenceArn = refX })
		for _, c := range []struct {
			account, ref string
			want         int
		}{
			{accountA, refX, 4},
			{accountA, refY, 1},
			{accountA, refX + "0", 0},
			{accountB, refX, 1},
			{accountB, refY, 0},
		} {
			got, err := f.s.ReadSetCountByReference(f.ctx, c.account, c.ref)
			must(t, "ReadSetCountByReference", err)
			equal(t, "read sets of account "+c.account+" naming "+c.ref, got, c.want)
		}
	}},
	{"the read set list filters on every field", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		other := f.createSequenceStore(accountA, at(0))
		stB := f.createSequenceStore(accountB, at(0))
		refX, refY := "arn:ref/x", "arn:ref/y"
		type attrs struct {
			name, status, ref, sample, subject, generated, creation string
			created                                                 int
		}
		add := func(store, account string, a attrs) *seqstore.ReadSet {
			return f.createReadSet(account, store, at(a.created), func(r *seqstore.ReadSet) {
				r.Name, r.Status, r.ReferenceArn, r.SampleID, r.SubjectID, r.GeneratedFrom, r.CreationType =
					a.name, a.status, a.ref, a.sample, a.subject, a.generated, a.creation
			})
		}
		r1 := add(st.ID, accountA, attrs{"alpha", seqstore.ReadSetStatusActive, refX, "s1", "p1", "g1", seqstore.CreationTypeUpload, 100})
		r2 := add(st.ID, accountA, attrs{"beta", seqstore.ReadSetStatusActive, refY, "s2", "p2", "g2", seqstore.CreationTypeImport, 200})
		r3 := add(st.ID, accountA, attrs{"alpha", seqstore.ReadSetStatusProcessingUpload, refY, "s1", "p2", "g1", seqstore.CreationTypeUpload, 300})
		r4 := add(st.ID, accountA, attrs{"alpha", seqstore.ReadSetStatusDeleted, refX, "s1", "p1", "g1", seqstore.CreationTypeUpload, 250})
		// Twins of r1 in another store of A and in B's store never show.
		add(other.ID, accountA, attrs{"alpha", seqstore.ReadSetStatusActive, refX, "s1", "p1", "g1", seqstore.CreationTypeUpload, 100})
		add(stB.ID, accountB, attrs{"alpha", seqstore.ReadSetStatusActive, refX, "s1", "p1", "g1", seqstore.CreationTypeUpload, 100})
		for _, c := range []struct {
			name   string
			filter meta.ReadSetFilter
			want   []string
		}{
			{"no filter leaves out DELETED read sets", meta.ReadSetFilter{}, []string{r1.ID, r2.ID, r3.ID}},
			{"name", meta.ReadSetFilter{Name: "alpha"}, []string{r1.ID, r3.ID}},
			{"a name only by prefix", meta.ReadSetFilter{Name: "alph"}, []string{}},
			{"status", meta.ReadSetFilter{Status: seqstore.ReadSetStatusProcessingUpload}, []string{r3.ID}},
			{"status DELETED", meta.ReadSetFilter{Status: seqstore.ReadSetStatusDeleted}, []string{r4.ID}},
			{"reference ARN", meta.ReadSetFilter{ReferenceArn: refY}, []string{r2.ID, r3.ID}},
			{"sample ID", meta.ReadSetFilter{SampleID: "s1"}, []string{r1.ID, r3.ID}},
			{"subject ID", meta.ReadSetFilter{SubjectID: "p2"}, []string{r2.ID, r3.ID}},
			{"generated from", meta.ReadSetFilter{GeneratedFrom: "g2"}, []string{r2.ID}},
			{"creation type", meta.ReadSetFilter{CreationType: seqstore.CreationTypeImport}, []string{r2.ID}},
			{"created on or after", meta.ReadSetFilter{Created: meta.TimeRange{After: at(200)}}, []string{r2.ID, r3.ID}},
			{"created on or before", meta.ReadSetFilter{Created: meta.TimeRange{Before: at(200)}}, []string{r1.ID, r2.ID}},
			{"created within one millisecond", meta.ReadSetFilter{Created: meta.TimeRange{After: at(300), Before: at(300)}}, []string{r3.ID}},
			{"created in an empty range", meta.ReadSetFilter{Created: meta.TimeRange{After: at(101), Before: at(199)}}, []string{}},
			{"DELETED and created in range", meta.ReadSetFilter{Status: seqstore.ReadSetStatusDeleted, Created: meta.TimeRange{After: at(200), Before: at(300)}}, []string{r4.ID}},
			{"every field at once", meta.ReadSetFilter{
				Name: "alpha", Status: seqstore.ReadSetStatusProcessingUpload, ReferenceArn: refY, SampleID: "s1",
				SubjectID: "p2", GeneratedFrom: "g1", CreationType: seqstore.CreationTypeUpload, Created: meta.TimeRange{After: at(300), Before: at(300)},
			}, []string{r3.ID}},
			{"fields that match different read sets", meta.ReadSetFilter{Name: "beta", SampleID: "s1"}, []string{}},
		} {
			t.Run(c.name, func(t *testing.T) {
				items, next, err := f.s.ReadSetList(f.ctx, accountA, st.ID, c.filter, meta.Page{})
				must(t, "ReadSetList", err)
				equal(t, "read sets listed", ids(items, readSetID), c.want)
				equal(t, "next page key", next, "")
			})
		}
		items, _, err := f.s.ReadSetList(f.ctx, accountA, st.ID, meta.ReadSetFilter{}, meta.Page{})
		must(t, "ReadSetList", err)
		equal(t, "listed read sets", items, []*seqstore.ReadSet{r1, r2, r3})
	}},
}
