package metatest

import (
	"context"
	"fmt"
	"testing"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

// benchItems is how many stores and read sets the benchmarks look up in
// turn, enough that the lookups do not all hit one cached row.
const benchItems = 200

// BenchmarkSequenceStoreGet measures SequenceStoreGet, the lookup every
// sequence-store request makes.
func BenchmarkSequenceStoreGet(b *testing.B, s meta.Store) {
	ctx := context.Background()
	ids := make([]string, benchItems)
	for i := range ids {
		ids[i] = fmt.Sprintf("%010d", 2000000000+i)
		st := &seqstore.SequenceStore{
			AccountID: accountA, ID: ids[i], Name: "bench", Status: seqstore.StoreStatusActive,
			PropagatedSetLevelTags: []string{"project"}, CreatedAt: at(i), UpdatedAt: at(i),
		}
		if err := s.SequenceStoreCreate(ctx, st); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := s.SequenceStoreGet(ctx, accountA, ids[i%benchItems]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkReadSetGet measures ReadSetGet on fully populated read sets, the
// lookup behind every GetReadSet part request.
func BenchmarkReadSetGet(b *testing.B, s meta.Store) {
	ctx := context.Background()
	f := &fixture{s: s, ctx: ctx, next: new(int)}
	st := f.newSequenceStore(accountA, at(0))
	if err := s.SequenceStoreCreate(ctx, st); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, benchItems)
	for i := range ids {
		r := f.newReadSet(accountA, st.ID, at(i))
		if err := s.ReadSetCreate(ctx, r); err != nil {
			b.Fatal(err)
		}
		ids[i] = r.ID
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := s.ReadSetGet(ctx, accountA, st.ID, ids[i%benchItems]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
