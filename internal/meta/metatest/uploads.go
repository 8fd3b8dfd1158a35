package metatest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

var uploadCases = []suiteCase{
	{"an upload reads back as it was created", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		want := f.createUpload(accountA, st.ID, at(10))
		got, err := f.s.UploadGet(f.ctx, accountA, st.ID, want.ID)
		must(t, "UploadGet", err)
		equal(t, "UploadGet", got, want)
	}},
	{"an upload ID can be created only once", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		first := f.createUpload(accountA, st.ID, at(10))
		again := f.newUpload(accountA, st.ID, at(11))
		again.ID = first.ID
		wantErr(t, "UploadCreate of an existing ID", f.s.UploadCreate(f.ctx, again), meta.ErrConflict)
	}},
	{"a missing upload is not found", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		_, err := f.s.UploadGet(f.ctx, accountA, st.ID, "0000000000")
		wantErr(t, "UploadGet", err, meta.ErrNotFound)
		err = f.s.UploadSetStatus(f.ctx, accountA, st.ID, "0000000000", seqstore.UploadStatusInProgress, seqstore.UploadStatusAborted)
		wantErr(t, "UploadSetStatus", err, meta.ErrNotFound)
	}},
	{"an upload moves between statuses only from the status it is in", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		u := f.createUpload(accountA, st.ID, at(10))
		steps := []struct {
			from, to string
			want     error
			status   string // the stored status afterwards
		}{
			{seqstore.UploadStatusCompleted, seqstore.UploadStatusAborted, meta.ErrConflict, seqstore.UploadStatusInProgress},
			{seqstore.UploadStatusInProgress, seqstore.UploadStatusAborted, nil, seqstore.UploadStatusAborted},
			{seqstore.UploadStatusInProgress, seqstore.UploadStatusCompleted, meta.ErrConflict, seqstore.UploadStatusAborted},
			{seqstore.UploadStatusAborted, seqstore.UploadStatusInProgress, nil, seqstore.UploadStatusInProgress},
		}
		for i, s := range steps {
			err := f.s.UploadSetStatus(f.ctx, accountA, st.ID, u.ID, s.from, s.to)
			wantErr(t, "step "+s.from+" to "+s.to, err, s.want)
			got, gerr := f.s.UploadGet(f.ctx, accountA, st.ID, u.ID)
			must(t, "UploadGet", gerr)
			want := *u
			want.Status = s.status
			if !equal(t, "upload after step "+s.from+" to "+s.to, got, &want) {
				t.Fatalf("stopped at step %d", i)
			}
		}
	}},
	{"completing an upload marks it COMPLETED and creates its read set with its parts frozen", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		u := f.createUpload(accountA, st.ID, at(10))
		f.putPart(newPart(u.ID, seqstore.FileSource1, 1, at(11)))
		f.putPart(newPart(u.ID, seqstore.FileSource1, 2, at(12)))
		rs := f.newUploadReadSet(u, at(20))
		equal(t, "parts frozen", len(rs.SourceParts), 2)
		must(t, "UploadComplete", f.s.UploadComplete(f.ctx, u, rs))
		gotU, err := f.s.UploadGet(f.ctx, accountA, st.ID, u.ID)
		must(t, "UploadGet", err)
		equal(t, "upload status", gotU.Status, seqstore.UploadStatusCompleted)
		gotR, err := f.s.ReadSetGet(f.ctx, accountA, st.ID, rs.ID)
		must(t, "ReadSetGet", err)
		equal(t, "the upload's read set", gotR, rs)
	}},
	{"a second completion is a conflict and creates no second read set", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		u := f.createUpload(accountA, st.ID, at(10))
		first := f.newUploadReadSet(u, at(20))
		must(t, "UploadComplete", f.s.UploadComplete(f.ctx, u, first))
		second := f.newUploadReadSet(u, at(30))
		wantErr(t, "second UploadComplete", f.s.UploadComplete(f.ctx, u, second), meta.ErrConflict)
		_, err := f.s.ReadSetGet(f.ctx, accountA, st.ID, second.ID)
		wantErr(t, "ReadSetGet of the second read set", err, meta.ErrNotFound)
		items, _, err := f.s.ReadSetList(f.ctx, accountA, st.ID, meta.ReadSetFilter{}, meta.Page{})
		must(t, "ReadSetList", err)
		equal(t, "read sets of the store", ids(items, readSetID), []string{first.ID})
	}},
	{"completing an aborted upload is a conflict and creates no read set", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		u := f.createUpload(accountA, st.ID, at(10))
		must(t, "UploadSetStatus", f.s.UploadSetStatus(f.ctx, accountA, st.ID, u.ID, seqstore.UploadStatusInProgress, seqstore.UploadStatusAborted))
		rs := f.newUploadReadSet(u, at(20))
		wantErr(t, "UploadComplete", f.s.UploadComplete(f.ctx, u, rs), meta.ErrConflict)
		_, err := f.s.ReadSetGet(f.ctx, accountA, st.ID, rs.ID)
		wantErr(t, "ReadSetGet", err, meta.ErrNotFound)
	}},
	{"a completion whose read set cannot be created leaves the upload in progress", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		existing := f.createReadSet(accountA, st.ID, at(5), nil)
		u := f.createUpload(accountA, st.ID, at(10))
		rs := f.newUploadReadSet(u, at(20))
		rs.ID = existing.ID
		wantErr(t, "UploadComplete with a taken read set ID", f.s.UploadComplete(f.ctx, u, rs), meta.ErrConflict)
		got, err := f.s.UploadGet(f.ctx, accountA, st.ID, u.ID)
		must(t, "UploadGet", err)
		equal(t, "upload status after the failed completion", got.Status, seqstore.UploadStatusInProgress)
		gotR, err := f.s.ReadSetGet(f.ctx, accountA, st.ID, existing.ID)
		must(t, "ReadSetGet", err)
		equal(t, "the read set that held the ID", gotR, existing)
		// With a fresh ID the completion goes through.
		rs.ID = f.id()
		must(t, "UploadComplete with a fresh ID", f.s.UploadComplete(f.ctx, u, rs))
	}},
	{"of 8 concurrent completions of one upload exactly one succeeds", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		u := f.createUpload(accountA, st.ID, at(10))
		const racers = 8
		readSets := make([]*seqstore.ReadSet, racers)
		for i := range readSets {
			readSets[i] = f.newUploadReadSet(u, at(20+i))
		}
		errs := make([]error, racers)
		race(racers, func(i int) { errs[i] = f.s.UploadComplete(f.ctx, u, readSets[i]) })
		var winners []string
		for i, err := range errs {
			switch {
			case err == nil:
				winners = append(winners, readSets[i].ID)
			case !errors.Is(err, meta.ErrConflict):
				t.Errorf("completion %d: got %v, want nil or ErrConflict", i, err)
			}
		}
		items, _, err := f.s.ReadSetList(f.ctx, accountA, st.ID, meta.ReadSetFilter{}, meta.Page{})
		must(t, "ReadSetList", err)
		if len(winners) != 1 {
			t.Fatalf("%d completions succeeded, want 1", len(winners))
		}
		equal(t, "read sets created", ids(items, readSetID), winners)
	}},
	{"the upload list filters on status", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		other := f.createSequenceStore(accountA, at(0))
		u1 := f.createUpload(accountA, st.ID, at(10))
		u2 := f.createUpload(accountA, st.ID, at(20))
		u3 := f.createUpload(accountA, st.ID, at(30))
		f.createUpload(accountA, other.ID, at(15))
		must(t, "UploadSetStatus", f.s.UploadSetStatus(f.ctx, accountA, st.ID, u2.ID, seqstore.UploadStatusInProgress, seqstore.UploadStatusAborted))
		u2.Status = seqstore.UploadStatusAborted
		for _, c := range []struct {
			status string
			want   []string
		}{
			{"", []string{u1.ID, u2.ID, u3.ID}},
			{seqstore.UploadStatusInProgress, []string{u1.ID, u3.ID}},
			{seqstore.UploadStatusAborted, []string{u2.ID}},
			{seqstore.UploadStatusCompleted, []string{}},
		} {
			items, next, err := f.s.UploadList(f.ctx, accountA, st.ID, meta.UploadFilter{Status: c.status}, meta.Page{})
			must(t, "UploadList", err)
			equal(t, "uploads with status "+c.status, ids(items, uploadID), c.want)
			equal(t, "next page key", next, "")
		}
		items, _, err := f.s.UploadList(f.ctx, accountA, st.ID, meta.UploadFilter{}, meta.Page{})
		must(t, "UploadList", err)
		equal(t, "listed uploads", items, []*seqstore.Upload{u1, u2, u3})
	}},
	{"putting a part again replaces it and returns the part it replaced", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		u := f.createUpload(accountA, st.ID, at(0))
		first := newPart(u.ID, seqstore.FileSource1, 1, at(10))
		f.putPart(first)
		stored := *first
		second := &seqstore.UploadPart{
			UploadID: u.ID, Source: seqstore.FileSource1, Number: 1,
			Size: 77, Checksum: "new-checksum", Key: "parts/new", CreatedAt: at(50), UpdatedAt: at(50),
		}
		replaced, err := f.s.UploadPartPut(f.ctx, second)
		must(t, "UploadPartPut again", err)
		if replaced == nil {
			t.Fatalf("UploadPartPut again replaced nothing, want %+v", stored)
		}
		equal(t, "the replaced part", replaced, &stored)
		// The part keeps the time it was first created and takes the new
		// update time, as ListReadSetUploadParts reports both.
		want := &seqstore.UploadPart{
			UploadID: u.ID, Source: seqstore.FileSource1, Number: 1,
			Size: 77, Checksum: "new-checksum", Key: "parts/new", CreatedAt: at(10), UpdatedAt: at(50),
		}
		all, err := f.s.UploadPartsAll(f.ctx, u.ID)
		must(t, "UploadPartsAll", err)
		equal(t, "parts after the replacement", all, []*seqstore.UploadPart{want})
	}},
	{"8 concurrent puts of one part each succeed, and every replaced part is reported once", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		u := f.createUpload(accountA, st.ID, at(0))
		const racers = 8
		replaced := make([]*seqstore.UploadPart, racers)
		errs := make([]error, racers)
		race(racers, func(i int) {
			p := newPart(u.ID, seqstore.FileSource1, 1, at(10+i))
			p.Key = fmt.Sprintf("parts/attempt-%d", i)
			replaced[i], errs[i] = f.s.UploadPartPut(f.ctx, p)
		})
		// Each attempt's bytes end up either stored or reported as
		// replaced, so the caller deletes them: never both, never neither.
		keys := map[string]int{}
		firsts := 0
		for i := range racers {
			if errs[i] != nil {
				t.Errorf("put %d: %v", i, errs[i])
				continue
			}
			if replaced[i] == nil {
				firsts++
				continue
			}
			keys[replaced[i].Key]++
		}
		all, err := f.s.UploadPartsAll(f.ctx, u.ID)
		must(t, "UploadPartsAll", err)
		if len(all) != 1 {
			t.Fatalf("%d parts stored, want 1", len(all))
		}
		keys[all[0].Key]++
		equal(t, "puts that replaced nothing", firsts, 1)
		for i := range racers {
			key := fmt.Sprintf("parts/attempt-%d", i)
			if keys[key] != 1 {
				t.Errorf("%s is stored or reported replaced %d times, want once", key, keys[key])
			}
		}
	}},
	{"parts of the two sources are kept apart", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		u := f.createUpload(accountA, st.ID, at(0))
		other := f.createUpload(accountA, st.ID, at(0))
		var want1, want2 []*seqstore.UploadPart
		for _, n := range []int{3, 1, 2} {
			p1 := newPart(u.ID, seqstore.FileSource1, n, at(10*n))
			p2 := newPart(u.ID, seqstore.FileSource2, n, at(10*n+1))
			f.putPart(p1)
			f.putPart(p2)
		}
		for n := 1; n <= 3; n++ {
			want1 = append(want1, newPart(u.ID, seqstore.FileSource1, n, at(10*n)))
			want2 = append(want2, newPart(u.ID, seqstore.FileSource2, n, at(10*n+1)))
		}
		f.putPart(newPart(other.ID, seqstore.FileSource1, 1, at(5)))
		for _, c := range []struct {
			source string
			want   []*seqstore.UploadPart
		}{{seqstore.FileSource1, want1}, {seqstore.FileSource2, want2}} {
			got, next, err := f.s.UploadPartList(f.ctx, u.ID, meta.UploadPartFilter{Source: c.source}, meta.Page{})
			must(t, "UploadPartList", err)
			equal(t, c.source+" parts in number order", got, c.want)
			equal(t, "next page key", next, "")
		}
		all, err := f.s.UploadPartsAll(f.ctx, u.ID)
		must(t, "UploadPartsAll", err)
		equal(t, "every part by source and number", all, append(append([]*seqstore.UploadPart{}, want1...), want2...))

		must(t, "UploadPartsDelete", f.s.UploadPartsDelete(f.ctx, u.ID))
		all, err = f.s.UploadPartsAll(f.ctx, u.ID)
		must(t, "UploadPartsAll after delete", err)
		equal(t, "parts after delete", len(all), 0)
		all, err = f.s.UploadPartsAll(f.ctx, other.ID)
		must(t, "UploadPartsAll of the other upload", err)
		equal(t, "parts of the other upload", len(all), 1)
	}},
	{"the part list filters on creation time", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		u := f.createUpload(accountA, st.ID, at(0))
		for n := 1; n <= 4; n++ {
			f.putPart(newPart(u.ID, seqstore.FileSource1, n, at(100*n)))
		}
		for _, c := range []struct {
			name    string
			created meta.TimeRange
			want    []string
		}{
			{"no range", meta.TimeRange{}, []string{"1", "2", "3", "4"}},
			{"on or after", meta.TimeRange{After: at(300)}, []string{"3", "4"}},
			{"on or before", meta.TimeRange{Before: at(200)}, []string{"1", "2"}},
			{"within", meta.TimeRange{After: at(200), Before: at(300)}, []string{"2", "3"}},
			{"empty", meta.TimeRange{After: at(201), Before: at(299)}, []string{}},
		} {
			got, _, err := f.s.UploadPartList(f.ctx, u.ID, meta.UploadPartFilter{Source: seqstore.FileSource1, Created: c.created}, meta.Page{})
			must(t, "UploadPartList", err)
			equal(t, "parts created "+c.name, ids(got, partNumber), c.want)
		}
	}}, {"no part is stored into an upload once it is completed or aborted", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		completed := f.createUpload(accountA, st.ID, at(0))
		f.putPart(newPart(completed.ID, seqstore.FileSource1, 1, at(10)))
		must(t, "UploadComplete", f.s.UploadComplete(f.ctx, completed, f.newUploadReadSet(completed, at(20))))
		aborted := f.createUpload(accountA, st.ID, at(0))
		f.putPart(newPart(aborted.ID, seqstore.FileSource1, 1, at(10)))
		must(t, "UploadSetStatus", f.s.UploadSetStatus(f.ctx, accountA, st.ID, aborted.ID, seqstore.UploadStatusInProgress, seqstore.UploadStatusAborted))
		for _, u := range []*seqstore.Upload{completed, aborted} {
			before, err := f.s.UploadPartsAll(f.ctx, u.ID)
			must(t, "UploadPartsAll", err)
			for _, p := range []*seqstore.UploadPart{newPart(u.ID, seqstore.FileSource1, 1, at(30)), newPart(u.ID, seqstore.FileSource1, 2, at(30))} {
				p.Key = "parts/late"
				replaced, err := f.s.UploadPartPut(f.ctx, p)
				wantErr(t, fmt.Sprintf("UploadPartPut of part %d into a finished upload", p.Number), err, meta.ErrConflict)
				if replaced != nil {
					t.Errorf("a refused part replaced %+v", replaced)
				}
			}
			after, err := f.s.UploadPartsAll(f.ctx, u.ID)
			must(t, "UploadPartsAll", err)
			equal(t, "parts after the refused puts", after, before)
		}
	}},
	{"a completion whose parts changed since they were listed is refused and changes nothing", func(t *testing.T, f *fixture) {
		for _, c := range []struct {
			name   string
			change *seqstore.UploadPart
		}{
			{"part uploaded again", &seqstore.UploadPart{Source: seqstore.FileSource1, Number: 1, Size: 9, Checksum: "other", Key: "parts/again"}},
			{"part added", &seqstore.UploadPart{Source: seqstore.FileSource1, Number: 2, Size: 9, Checksum: "more", Key: "parts/more"}},
			{"part of the other source added", &seqstore.UploadPart{Source: seqstore.FileSource2, Number: 1, Size: 9, Checksum: "mate", Key: "parts/mate"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				f := f.in(t)
				st := f.createSequenceStore(accountA, at(0))
				u := f.createUpload(accountA, st.ID, at(0))
				f.putPart(newPart(u.ID, seqstore.FileSource1, 1, at(10)))
				rs := f.newUploadReadSet(u, at(20))
				c.change.UploadID, c.change.CreatedAt, c.change.UpdatedAt = u.ID, at(15), at(15)
				_, err := f.s.UploadPartPut(f.ctx, c.change)
				must(t, "UploadPartPut", err)
				err = f.s.UploadComplete(f.ctx, u, rs)
				wantErr(t, "UploadComplete", err, meta.ErrPartsChanged)
				wantErr(t, "UploadComplete", err, meta.ErrConflict)
				got, gerr := f.s.UploadGet(f.ctx, accountA, st.ID, u.ID)
				must(t, "UploadGet", gerr)
				equal(t, "upload status", got.Status, seqstore.UploadStatusInProgress)
				_, gerr = f.s.ReadSetGet(f.ctx, accountA, st.ID, rs.ID)
				wantErr(t, "ReadSetGet", gerr, meta.ErrNotFound)
				// Listed again, the parts complete.
				must(t, "UploadComplete with the parts listed again", f.s.UploadComplete(f.ctx, u, f.newUploadReadSet(u, at(30))))
			})
		}
	}},
	{"parts put while an upload completes either make the completion fail or are refused", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		for round := range 4 {
			u := f.createUpload(accountA, st.ID, at(0))
			f.putPart(newPart(u.ID, seqstore.FileSource1, 1, at(10)))
			rs := f.newUploadReadSet(u, at(20))
			const racers = 6
			errs := make([]error, racers+1)
			race(racers+1, func(i int) {
				if i == racers {
					errs[i] = f.s.UploadComplete(f.ctx, u, rs)
					return
				}
				p := newPart(u.ID, seqstore.FileSource1, 1+i%2, at(30))
				p.Key = fmt.Sprintf("parts/racer-%d", i)
				_, errs[i] = f.s.UploadPartPut(f.ctx, p)
			})
			stored, err := f.s.UploadPartsAll(f.ctx, u.ID)
			must(t, "UploadPartsAll", err)
			completeErr := errs[racers]
			switch {
			case completeErr == nil:
				// Completed: every part put was refused, and the parts
				// are those the read set froze.
				for i, err := range errs[:racers] {
					wantErr(t, fmt.Sprintf("round %d: put %d after the completion", round, i), err, meta.ErrConflict)
				}
				got := []seqstore.UploadPart{}
				for _, p := range stored {
					got = append(got, *p)
				}
				equal(t, fmt.Sprintf("round %d: stored parts", round), got, rs.SourceParts)
			case errors.Is(completeErr, meta.ErrPartsChanged):
				got, err := f.s.UploadGet(f.ctx, accountA, st.ID, u.ID)
				must(t, "UploadGet", err)
				equal(t, fmt.Sprintf("round %d: upload status", round), got.Status, seqstore.UploadStatusInProgress)
			default:
				t.Errorf("round %d: UploadComplete: %v, want nil or ErrPartsChanged", round, completeErr)
			}
		}
	}},
}
