package metatest

import (
	"fmt"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

// lister lists one page and returns the IDs on it.
type lister func(p meta.Page) (ids []string, next string, err error)

// listOf adapts a typed list method to a lister.
func listOf[T any](list func(p meta.Page) ([]T, string, error), id func(T) string) lister {
	return func(p meta.Page) ([]string, string, error) {
		items, next, err := list(p)
		return ids(items, id), next, err
	}
}

// pagedTimes are the creation times, in milliseconds, of the items each
// paging test lists: three share a millisecond, so the order within it
// rests on the ID alone.
var pagedTimes = []int{20, 10, 20, 30, 20}

// paged describes the items a paging test made: created[i] is the creation
// time of the item with ids[i].
type paged struct {
	ids     []string
	created []int
}

// order returns the IDs in list order: creation time, then ID.
func (p paged) order() []string {
	idx := make([]int, len(p.ids))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		i, j := idx[a], idx[b]
		if p.created[i] != p.created[j] {
			return p.created[i] < p.created[j]
		}
		return p.ids[i] < p.ids[j]
	})
	out := make([]string, len(idx))
	for k, i := range idx {
		out[k] = p.ids[i]
	}
	return out
}

// makePaged creates one item per pagedTimes with create, in reverse order
// of ID so that insertion order cannot pass for list order.
func makePaged(create func(created time.Time) string) paged {
	var p paged
	for i := len(pagedTimes) - 1; i >= 0; i-- {
		p.ids = append(p.ids, create(at(pagedTimes[i])))
		p.created = append(p.created, pagedTimes[i])
	}
	return p
}

type pagingCase struct {
	name string
	// setup makes the items and noise that must not show, and returns the
	// list and the IDs it must give, in order.
	setup   func(f *fixture) (lister, []string)
	badKeys []string
}

// createdKeyBadKeys are page keys no list keyed on creation time and ID
// makes.
var createdKeyBadKeys = []string{"garbage", "123:", ":1000000001", "abc:1000000001", "12.5:1000000001", "0x10:1000000001"}

var pagingLists = []pagingCase{
	{"sequence stores", func(f *fixture) (lister, []string) {
		p := makePaged(func(c time.Time) string { return f.createSequenceStore(accountA, c).ID })
		f.createSequenceStore(accountB, at(20))
		return listOf(func(pg meta.Page) ([]*seqstore.SequenceStore, string, error) {
			return f.s.SequenceStoreList(f.ctx, accountA, meta.SequenceStoreFilter{}, pg)
		}, sequenceStoreID), p.order()
	}, createdKeyBadKeys},
	{"read sets", func(f *fixture) (lister, []string) {
		st := f.createSequenceStore(accountA, at(0))
		other := f.createSequenceStore(accountA, at(0))
		p := makePaged(func(c time.Time) string { return f.createReadSet(accountA, st.ID, c, nil).ID })
		f.createReadSet(accountA, other.ID, at(20), nil)
		f.createReadSet(accountA, st.ID, at(20), func(r *seqstore.ReadSet) { r.Status = seqstore.ReadSetStatusDeleted })
		return listOf(func(pg meta.Page) ([]*seqstore.ReadSet, string, error) {
			return f.s.ReadSetList(f.ctx, accountA, st.ID, meta.ReadSetFilter{}, pg)
		}, readSetID), p.order()
	}, createdKeyBadKeys},
	{"filtered read sets", func(f *fixture) (lister, []string) {
		st := f.createSequenceStore(accountA, at(0))
		p := makePaged(func(c time.Time) string {
			return f.createReadSet(accountA, st.ID, c, func(r *seqstore.ReadSet) { r.SampleID = "wanted" }).ID
		})
		f.createReadSet(accountA, st.ID, at(20), nil)
		f.createReadSet(accountA, st.ID, at(15), nil)
		return listOf(func(pg meta.Page) ([]*seqstore.ReadSet, string, error) {
			return f.s.ReadSetList(f.ctx, accountA, st.ID, meta.ReadSetFilter{SampleID: "wanted"}, pg)
		}, readSetID), p.order()
	}, nil},
	{"uploads", func(f *fixture) (lister, []string) {
		st := f.createSequenceStore(accountA, at(0))
		p := makePaged(func(c time.Time) string { return f.createUpload(accountA, st.ID, c).ID })
		stB := f.createSequenceStore(accountB, at(0))
		f.createUpload(accountB, stB.ID, at(20))
		return listOf(func(pg meta.Page) ([]*seqstore.Upload, string, error) {
			return f.s.UploadList(f.ctx, accountA, st.ID, meta.UploadFilter{}, pg)
		}, uploadID), p.order()
	}, createdKeyBadKeys},
	{"reference stores", func(f *fixture) (lister, []string) {
		p := makePaged(func(c time.Time) string { return f.createReferenceStore(accountA, c).ID })
		f.createReferenceStore(accountB, at(20))
		return listOf(func(pg meta.Page) ([]*seqstore.ReferenceStore, string, error) {
			return f.s.ReferenceStoreList(f.ctx, accountA, "", meta.TimeRange{}, pg)
		}, referenceStoreID), p.order()
	}, createdKeyBadKeys},
	{"references", func(f *fixture) (lister, []string) {
		st := f.createReferenceStore(accountA, at(0))
		other := f.createReferenceStore(accountA, at(0))
		p := makePaged(func(c time.Time) string { return f.createReference(accountA, st.ID, c, nil).ID })
		f.createReference(accountA, other.ID, at(20), nil)
		return listOf(func(pg meta.Page) ([]*seqstore.Reference, string, error) {
			return f.s.ReferenceList(f.ctx, accountA, st.ID, meta.ReferenceFilter{}, pg)
		}, referenceID), p.order()
	}, createdKeyBadKeys},
	{"jobs", func(f *fixture) (lister, []string) {
		st := f.createSequenceStore(accountA, at(0))
		other := f.createSequenceStore(accountA, at(0))
		p := makePaged(func(c time.Time) string { return f.createJob(accountA, st.ID, seqstore.JobKindReadSetImport, c, 1).ID })
		f.createJob(accountA, st.ID, seqstore.JobKindReadSetExport, at(20), 1)
		f.createJob(accountA, other.ID, seqstore.JobKindReadSetImport, at(20), 1)
		return listOf(func(pg meta.Page) ([]*seqstore.Job, string, error) {
			return f.s.JobList(f.ctx, accountA, st.ID, seqstore.JobKindReadSetImport, meta.JobFilter{}, pg)
		}, jobID), p.order()
	}, createdKeyBadKeys},
	{"filtered jobs", func(f *fixture) (lister, []string) {
		st := f.createSequenceStore(accountA, at(0))
		p := makePaged(func(c time.Time) string { return f.createJob(accountA, st.ID, seqstore.JobKindReadSetExport, c, 2).ID })
		f.createJob(accountA, st.ID, seqstore.JobKindReadSetExport, at(5), 1)
		f.createJob(accountA, st.ID, seqstore.JobKindReadSetExport, at(35), 1)
		return listOf(func(pg meta.Page) ([]*seqstore.Job, string, error) {
			return f.s.JobList(f.ctx, accountA, st.ID, seqstore.JobKindReadSetExport, meta.JobFilter{
				Status: seqstore.JobStatusSubmitted, Created: meta.TimeRange{After: at(10), Before: at(30)},
			}, pg)
		}, jobID), p.order()
	}, nil},
	{"upload parts", func(f *fixture) (lister, []string) {
		st := f.createSequenceStore(accountA, at(0))
		u := f.createUpload(accountA, st.ID, at(0))
		other := f.createUpload(accountA, st.ID, at(0))
		// Parts are listed by number, whenever they came.
		var want []string
		for _, n := range []int{4, 1, 5, 3, 2} {
			f.putPart(newPart(u.ID, seqstore.FileSource1, n, at(100-n)))
			f.putPart(newPart(u.ID, seqstore.FileSource2, n+10, at(100-n)))
			f.putPart(newPart(other.ID, seqstore.FileSource1, n+20, at(100-n)))
		}
		for n := 1; n <= 5; n++ {
			want = append(want, strconv.Itoa(n))
		}
		return listOf(func(pg meta.Page) ([]*seqstore.UploadPart, string, error) {
			return f.s.UploadPartList(f.ctx, u.ID, meta.UploadPartFilter{Source: seqstore.FileSource1}, pg)
		}, partNumber), want
	}, []string{"garbage", "1.5", "one", "1:1000000001"}},
}

// pageThrough lists every page with the limit and returns the IDs in the
// order the pages gave them.
func pageThrough(t *testing.T, list lister, limit int) []string {
	t.Helper()
	var all []string
	after := ""
	for page := 0; ; page++ {
		if page > 100 {
			t.Fatalf("still listing after %d pages: %v", page, all)
		}
		got, next, err := list(meta.Page{After: after, Limit: limit})
		if err != nil {
			t.Fatalf("page %d after %q: %v", page, after, err)
		}
		if limit > 0 && len(got) > limit {
			t.Errorf("page %d holds %d items, more than the limit %d", page, len(got), limit)
		}
		if len(got) == 0 && page > 0 {
			t.Errorf("page %d after %q is empty; the previous page should have had no next key", page, after)
		}
		all = append(all, got...)
		if next == "" {
			return all
		}
		if next == after {
			t.Fatalf("page %d gave back its own key %q", page, after)
		}
		after = next
	}
}

var pagingCases = []suiteCase{
	{"every list pages through every item exactly once in order", func(t *testing.T, f *fixture) {
		for _, c := range pagingLists {
			t.Run(c.name, func(t *testing.T) {
				list, want := c.setup(f.in(t))
				for _, limit := range []int{1, 2, 3, 100, 0} {
					t.Run(fmt.Sprintf("pages of %d", limit), func(t *testing.T) {
						got := pageThrough(t, list, limit)
						seen := map[string]int{}
						for _, id := range got {
							seen[id]++
							if seen[id] == 2 {
								t.Errorf("%s listed more than once", id)
							}
						}
						equal(t, "items across pages", got, want)
					})
				}
			})
		}
	}},
	{"a page key still leads on after the item it names is deleted", func(t *testing.T, f *fixture) {
		st := f.createSequenceStore(accountA, at(0))
		var want []string
		for i := range 5 {
			want = append(want, f.createReadSet(accountA, st.ID, at(i), nil).ID)
		}
		list := func(after string) ([]string, string) {
			items, next, err := f.s.ReadSetList(f.ctx, accountA, st.ID, meta.ReadSetFilter{}, meta.Page{After: after, Limit: 2})
			must(t, "ReadSetList", err)
			return ids(items, readSetID), next
		}
		first, next := list("")
		equal(t, "first page", first, want[:2])
		// The item the key names goes, and so does the one after it.
		must(t, "ReadSetDelete", f.s.ReadSetDelete(f.ctx, accountA, st.ID, want[1]))
		must(t, "ReadSetDelete", f.s.ReadSetDelete(f.ctx, accountA, st.ID, want[2]))
		second, next := list(next)
		equal(t, "second page", second, want[3:5])
		if next != "" {
			rest, _ := list(next)
			equal(t, "third page", rest, []string{})
		}
	}},
	{"a malformed page key is refused", func(t *testing.T, f *fixture) {
		for _, c := range pagingLists {
			if c.badKeys == nil {
				continue
			}
			t.Run(c.name, func(t *testing.T) {
				list, _ := c.setup(f.in(t))
				for _, key := range c.badKeys {
					got, _, err := list(meta.Page{After: key, Limit: 2})
					wantErr(t, fmt.Sprintf("page after %q", key), err, meta.ErrBadPageKey)
					if len(got) != 0 {
						t.Errorf("page after %q listed %v", key, got)
					}
				}
			})
		}
	}},
}
