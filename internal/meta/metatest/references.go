package metatest

import (
	"strings"
	"testing"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

var referenceCases = []suiteCase{
	{"a reference store reads back as it was created", func(t *testing.T, f *fixture) {
		want := f.createReferenceStore(accountA, at(10))
		got, err := f.s.ReferenceStoreGet(f.ctx, accountA, want.ID)
		must(t, "ReferenceStoreGet", err)
		equal(t, "ReferenceStoreGet", got, want)
	}},
	{"a reference store ID can be created only once", func(t *testing.T, f *fixture) {
		first := f.createReferenceStore(accountA, at(10))
		again := f.newReferenceStore(accountA, at(20))
		again.ID = first.ID
		wantErr(t, "ReferenceStoreCreate of an existing ID", f.s.ReferenceStoreCreate(f.ctx, again), meta.ErrConflict)
		got, err := f.s.ReferenceStoreGet(f.ctx, accountA, first.ID)
		must(t, "ReferenceStoreGet", err)
		equal(t, "the store after the refused create", got, first)
	}},
	{"a deleted reference store is gone", func(t *testing.T, f *fixture) {
		st := f.createReferenceStore(accountA, at(10))
		must(t, "ReferenceStoreDelete", f.s.ReferenceStoreDelete(f.ctx, accountA, st.ID))
		_, err := f.s.ReferenceStoreGet(f.ctx, accountA, st.ID)
		wantErr(t, "ReferenceStoreGet after delete", err, meta.ErrNotFound)
		wantErr(t, "ReferenceStoreDelete again", f.s.ReferenceStoreDelete(f.ctx, accountA, st.ID), meta.ErrNotFound)
	}},
	{"a missing reference store is not found", func(t *testing.T, f *fixture) {
		_, err := f.s.ReferenceStoreGet(f.ctx, accountA, "0000000000")
		wantErr(t, "ReferenceStoreGet", err, meta.ErrNotFound)
		wantErr(t, "ReferenceStoreDelete", f.s.ReferenceStoreDelete(f.ctx, accountA, "0000000000"), meta.ErrNotFound)
	}},
	{"a reference store that holds references cannot be deleted", func(t *testing.T, f *fixture) {
		for _, c := range []struct {
			statuses []string
			conflict bool
		}{
			{nil, false},
			{[]string{seqstore.ReferenceStatusActive}, true},
			{[]string{seqstore.ReferenceStatusDeleting}, true},
			{[]string{seqstore.ReferenceStatusDeleted, seqstore.ReferenceStatusActive}, true},
			{[]string{seqstore.ReferenceStatusDeleted, seqstore.ReferenceStatusDeleted}, false},
		} {
			t.Run(show(c.statuses), func(t *testing.T) {
				f := f.in(t)
				st := f.createReferenceStore(accountA, at(0))
				var refs []*seqstore.Reference
				for i, status := range c.statuses {
					refs = append(refs, f.createReference(accountA, st.ID, at(i), func(r *seqstore.Reference) { r.Status = status }))
				}
				err := f.s.ReferenceStoreDelete(f.ctx, accountA, st.ID)
				if !c.conflict {
					wantErr(t, "ReferenceStoreDelete", err, nil)
					_, gerr := f.s.ReferenceStoreGet(f.ctx, accountA, st.ID)
					wantErr(t, "ReferenceStoreGet after delete", gerr, meta.ErrNotFound)
					return
				}
				wantErr(t, "ReferenceStoreDelete", err, meta.ErrConflict)
				got, gerr := f.s.ReferenceStoreGet(f.ctx, accountA, st.ID)
				must(t, "ReferenceStoreGet after the refused delete", gerr)
				equal(t, "the store after the refused delete", got, st)
				for _, r := range refs {
					got, gerr := f.s.ReferenceGet(f.ctx, accountA, st.ID, r.ID)
					must(t, "ReferenceGet after the refused delete", gerr)
					equal(t, "a reference after the refused delete", got, r)
				}
			})
		}
	}},
	{"the reference store list filters on name and creation time", func(t *testing.T, f *fixture) {
		add := func(account, name string, created int) *seqstore.ReferenceStore {
			st := f.newReferenceStore(account, at(created))
			st.Name = name
			must(t, "ReferenceStoreCreate", f.s.ReferenceStoreCreate(f.ctx, st))
			return st
		}
		s1 := add(accountA, "alpha", 100)
		s2 := add(accountA, "beta", 200)
		s3 := add(accountA, "alpha", 300)
		add(accountB, "alpha", 200)
		for _, c := range []struct {
			name    string
			store   string
			created meta.TimeRange
			want    []string
		}{
			{"no filter", "", meta.TimeRange{}, []string{s1.ID, s2.ID, s3.ID}},
			{"name", "alpha", meta.TimeRange{}, []string{s1.ID, s3.ID}},
			{"a name no store has", "gamma", meta.TimeRange{}, []string{}},
			{"created on or after", "", meta.TimeRange{After: at(200)}, []string{s2.ID, s3.ID}},
			{"created on or before", "", meta.TimeRange{Before: at(200)}, []string{s1.ID, s2.ID}},
			{"created within one millisecond", "", meta.TimeRange{After: at(100), Before: at(100)}, []string{s1.ID}},
			{"name and creation time", "alpha", meta.TimeRange{After: at(150)}, []string{s3.ID}},
		} {
			items, next, err := f.s.ReferenceStoreList(f.ctx, accountA, c.store, c.created, meta.Page{})
			must(t, "ReferenceStoreList", err)
			equal(t, "reference stores listed by "+c.name, ids(items, referenceStoreID), c.want)
			equal(t, "next page key", next, "")
		}
		items, _, err := f.s.ReferenceStoreList(f.ctx, accountA, "", meta.TimeRange{}, meta.Page{})
		must(t, "ReferenceStoreList", err)
		equal(t, "listed reference stores", items, []*seqstore.ReferenceStore{s1, s2, s3})
	}},
	{"a reference reads back as it was created", func(t *testing.T, f *fixture) {
		st := f.createReferenceStore(accountA, at(0))
		want := f.createReference(accountA, st.ID, at(10), nil)
		got, err := f.s.ReferenceGet(f.ctx, accountA, st.ID, want.ID)
		must(t, "ReferenceGet", err)
		equal(t, "ReferenceGet", got, want)
	}},
	{"a reference is found only in its own store", func(t *testing.T, f *fixture) {
		st := f.createReferenceStore(accountA, at(0))
		other := f.createReferenceStore(accountA, at(1))
		r := f.createReference(accountA, st.ID, at(10), nil)
		_, err := f.s.ReferenceGet(f.ctx, accountA, other.ID, r.ID)
		wantErr(t, "ReferenceGet through another store", err, meta.ErrNotFound)
		wantErr(t, "ReferenceDelete through another store", f.s.ReferenceDelete(f.ctx, accountA, other.ID, r.ID), meta.ErrNotFound)
	}},
	{"a reference ID can be created only once", func(t *testing.T, f *fixture) {
		st := f.createReferenceStore(accountA, at(0))
		first := f.createReference(accountA, st.ID, at(10), nil)
		again := f.newReference(accountA, st.ID, at(20))
		again.ID = first.ID
		wantErr(t, "ReferenceCreate of an existing ID", f.s.ReferenceCreate(f.ctx, again), meta.ErrConflict)
	}},
	{"a reference update writes the mutable fields", func(t *testing.T, f *fixture) {
		st := f.createReferenceStore(accountA, at(0))
		r := f.createReference(accountA, st.ID, at(10), func(r *seqstore.Reference) { r.Files, r.MD5 = nil, "" })
		r.Name, r.Description, r.MD5, r.Status = "renamed", "new description", "0123456789abcdef", seqstore.ReferenceStatusDeleting
		r.Files = []seqstore.StoredFile{{Kind: seqstore.FileSource, Key: "k", Name: "g.fa", ContentLength: 3, PartSize: 1}}
		r.UpdatedAt = at(77)
		must(t, "ReferenceUpdate", f.s.ReferenceUpdate(f.ctx, r))
		got, err := f.s.ReferenceGet(f.ctx, accountA, st.ID, r.ID)
		must(t, "ReferenceGet", err)
		equal(t, "the updated reference", got, r)
	}},
	{"updating a missing reference is not found", func(t *testing.T, f *fixture) {
		st := f.createReferenceStore(accountA, at(0))
		wantErr(t, "ReferenceUpdate", f.s.ReferenceUpdate(f.ctx, f.newReference(accountA, st.ID, at(1))), meta.ErrNotFound)
	}},
	{"a deleted reference is gone", func(t *testing.T, f *fixture) {
		st := f.createReferenceStore(accountA, at(0))
		r := f.createReference(accountA, st.ID, at(10), nil)
		keep := f.createReference(accountA, st.ID, at(11), nil)
		must(t, "ReferenceDelete", f.s.ReferenceDelete(f.ctx, accountA, st.ID, r.ID))
		_, err := f.s.ReferenceGet(f.ctx, accountA, st.ID, r.ID)
		wantErr(t, "ReferenceGet after delete", err, meta.ErrNotFound)
		wantErr(t, "ReferenceDelete again", f.s.ReferenceDelete(f.ctx, accountA, st.ID, r.ID), meta.ErrNotFound)
		items, _, err := f.s.ReferenceList(f.ctx, accountA, st.ID, meta.ReferenceFilter{}, meta.Page{})
		must(t, "ReferenceList", err)
		equal(t, "references after the delete", items, []*seqstore.Reference{keep})
	}},
	{"the reference list filters on every field", func(t *testing.T, f *fixture) {
		st := f.createReferenceStore(accountA, at(0))
		other := f.createReferenceStore(accountA, at(0))
		stB := f.createReferenceStore(accountB, at(0))
		add := func(account, store, name, md5 string, created int) *seqstore.Reference {
			return f.createReference(account, store, at(created), func(r *seqstore.Reference) { r.Name, r.MD5 = name, md5 })
		}
		r1 := add(accountA, st.ID, "hg38", "aaaa", 100)
		r2 := add(accountA, st.ID, "hg19", "bbbb", 200)
		r3 := add(accountA, st.ID, "hg38", "bbbb", 300)
		add(accountA, other.ID, "hg38", "aaaa", 100)
		add(accountB, stB.ID, "hg38", "aaaa", 100)
		for _, c := range []struct {
			name   string
			filter meta.ReferenceFilter
			want   []string
		}{
			{"no filter", meta.ReferenceFilter{}, []string{r1.ID, r2.ID, r3.ID}},
			{"name", meta.ReferenceFilter{Name: "hg38"}, []string{r1.ID, r3.ID}},
			{"MD5", meta.ReferenceFilter{MD5: "bbbb"}, []string{r2.ID, r3.ID}},
			{"name and MD5", meta.ReferenceFilter{Name: "hg38", MD5: "bbbb"}, []string{r3.ID}},
			{"an MD5 only by prefix", meta.ReferenceFilter{MD5: "bb"}, []string{}},
			{"created on or after", meta.ReferenceFilter{Created: meta.TimeRange{After: at(200)}}, []string{r2.ID, r3.ID}},
			{"created on or before", meta.ReferenceFilter{Created: meta.TimeRange{Before: at(200)}}, []string{r1.ID, r2.ID}},
			{"created within one millisecond", meta.ReferenceFilter{Created: meta.TimeRange{After: at(300), Before: at(300)}}, []string{r3.ID}},
			{"every field", meta.ReferenceFilter{Name: "hg38", MD5: "aaaa", Created: meta.TimeRange{After: at(100), Before: at(100)}}, []string{r1.ID}},
		} {
			items, next, err := f.s.ReferenceList(f.ctx, accountA, st.ID, c.filter, meta.Page{})
			must(t, "ReferenceList", err)
			equal(t, "references listed by "+c.name, ids(items, referenceID), c.want)
			equal(t, "next page key", next, "")
		}
		items, _, err := f.s.ReferenceList(f.ctx, accountA, st.ID, meta.ReferenceFilter{}, meta.Page{})
		must(t, "ReferenceList", err)
		equal(t, "listed references", items, []*seqstore.Reference{r1, r2, r3})
	}},
	{"a reference's sequences are replaced only while it is ACTIVE", func(t *testing.T, f *fixture) {
		st := f.createReferenceStore(accountA, at(0))
		r := f.createReference(accountA, st.ID, at(10), nil)
		seqs := append([]seqstore.ReferenceSequence(nil), r.Sequences...)
		seqs[0].GA4GH = "SQ.aKF498dAxcJAqme6QYQ7EZ07-fiw8Kw2"
		must(t, "ReferenceSequencesSet", f.s.ReferenceSequencesSet(f.ctx, accountA, st.ID, r.ID, seqs))
		got, err := f.s.ReferenceGet(f.ctx, accountA, st.ID, r.ID)
		must(t, "ReferenceGet", err)
		r.Sequences = seqs
		equal(t, "the reference after its sequences were set", got, r)
		wantErr(t, "ReferenceSequencesSet in another account", f.s.ReferenceSequencesSet(f.ctx, accountB, st.ID, r.ID, nil), meta.ErrNotFound)
		for _, status := range []string{seqstore.ReferenceStatusDeleting, seqstore.ReferenceStatusDeleted} {
			gone := f.createReference(accountA, st.ID, at(20), func(x *seqstore.Reference) { x.Status = status })
			wantErr(t, "ReferenceSequencesSet of a "+status+" reference", f.s.ReferenceSequencesSet(f.ctx, accountA, st.ID, gone.ID, seqs), meta.ErrNotFound)
			got, err := f.s.ReferenceGet(f.ctx, accountA, st.ID, gone.ID)
			must(t, "ReferenceGet", err)
			equal(t, "a "+status+" reference after the refused set", got, gone)
		}
	}},
	{"the reference list finds references by a sequence's digest, in every store of the account", func(t *testing.T, f *fixture) {
		st := f.createReferenceStore(accountA, at(0))
		other := f.createReferenceStore(accountA, at(0))
		stB := f.createReferenceStore(accountB, at(0))
		const (
			md5a  = "0123456789abcdef0123456789abcdef"
			md5b  = "fedcba9876543210fedcba9876543210"
			sqA   = "SQ.aKF498dAxcJAqme6QYQ7EZ07-fiw8Kw2"
			sqB   = "SQ.Ya6Rs7DHhDeg7YaOSg1EoNi3U_nQ9SvO"
			sqOld = ""
		)
		add := func(account, store string, created int, seqs ...seqstore.ReferenceSequence) *seqstore.Reference {
			return f.createReference(account, store, at(created), func(r *seqstore.Reference) { r.Sequences = seqs })
		}
		r1 := add(accountA, st.ID, 100, seqstore.ReferenceSequence{Name: "chr1", Length: 4, MD5: md5a, GA4GH: sqA})
		r2 := add(accountA, other.ID, 200, seqstore.ReferenceSequence{Name: "x", Length: 4, MD5: md5b, GA4GH: sqB},
			seqstore.ReferenceSequence{Name: "y", Length: 4, MD5: md5a, GA4GH: sqA})
		// A name that looks like a digest, and a sequence imported before
		// the GA4GH digest was kept, match nothing but their own digest.
		r3 := add(accountA, st.ID, 300, seqstore.ReferenceSequence{Name: md5b, Length: 9, MD5: "00000000000000000000000000000000", GA4GH: sqOld},
			seqstore.ReferenceSequence{Name: `","md5":"` + md5b, Length: 9, MD5: "11111111111111111111111111111111"})
		add(accountB, stB.ID, 100, seqstore.ReferenceSequence{Name: "chr1", Length: 4, MD5: md5a, GA4GH: sqA})
		for _, c := range []struct {
			name, store, digest string
			want                []string
		}{
			{"an MD5 in two stores", "", md5a, []string{r1.ID, r2.ID}},
			{"an MD5 in one store", st.ID, md5a, []string{r1.ID}},
			{"a GA4GH identifier", "", sqB, []string{r2.ID}},
			{"a GA4GH identifier in other letter case", "", strings.ToLower(sqB), []string{}},
			{"an MD5 in upper case", "", strings.ToUpper(md5a), []string{}},
			{"an MD5 by prefix", "", md5a[:31], []string{}},
			{"'_' is no wildcard", "", strings.Replace(sqB, "U", "_", 1), []string{}},
			{"an MD5 that is also a name", "", md5b, []string{r2.ID}},
			{"the only sequence's own MD5", "", "00000000000000000000000000000000", []string{r3.ID}},
		} {
			items, next, err := f.s.ReferenceList(f.ctx, accountA, c.store, meta.ReferenceFilter{Sequence: c.digest}, meta.Page{})
			must(t, "ReferenceList", err)
			equal(t, "references listed by "+c.name, ids(items, referenceID), c.want)
			equal(t, "next page key", next, "")
		}
	}},
}
