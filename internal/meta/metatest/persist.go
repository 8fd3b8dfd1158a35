package metatest

import (
	"testing"

	"github.com/seqstore/seqstore/internal/meta"
)

// RunPersistence checks that what one store wrote survives closing it:
// every call of reopen must open the same database (the same SQLite file,
// the same PostgreSQL schema). The suite closes each store it opens.
func RunPersistence(t *testing.T, reopen func(t *testing.T) meta.Store) {
	first := reopen(t)
	f := newFixture(t, first)
	a := f.makeWorld(accountA)
	b := f.makeWorld(accountB)
	must(t, "IdempotencyFinish", first.IdempotencyFinish(f.ctx, accountA, isolationOp, isolationToken, []byte(`{"done":true}`)))
	// Take B's ingest lease, so that the lease too must survive.
	claimed, _, err := first.IngestClaim(f.ctx, "node-1", at(1000), at(1000000))
	must(t, "IngestClaim", err)
	must(t, "Close", first.Close())

	for round := range 2 {
		s := reopen(t)
		g := &fixture{t: t, s: s, ctx: f.ctx, next: f.next}
		accounts, err := s.AccountList(g.ctx)
		must(t, "AccountList", err)
		equal(t, "accounts after reopening", len(accounts), 2)
		g.checkWorld(t, a)
		g.checkWorld(t, b)
		existing, err := s.IdempotencyClaim(g.ctx, &meta.IdempotencyRecord{AccountID: accountA, Operation: isolationOp, Token: isolationToken, CreatedAt: at(5)})
		must(t, "IdempotencyClaim", err)
		if existing == nil {
			t.Fatal("the finished idempotency record is gone")
		}
		equal(t, "response kept across reopening", string(existing.Response), `{"done":true}`)
		// The lease taken before closing still holds: the one other read
		// set is the only one to claim, and only once.
		next, _, err := s.IngestClaim(g.ctx, "node-2", at(2000+round), at(3000+round))
		if round == 0 {
			must(t, "IngestClaim", err)
			if next.ID == claimed.ID {
				t.Errorf("the lease on %s was lost in closing", claimed.ID)
			}
		} else {
			wantErr(t, "IngestClaim while both leases hold", err, meta.ErrNotFound)
		}
		wantErr(t, "IngestRenew by the owner from before closing",
			s.IngestRenew(g.ctx, claimed.AccountID, claimed.StoreID, claimed.ID, "node-1", at(2000000)), nil)
		// Something new written now must be there on the next round.
		if round == 0 {
			g.createSequenceStore(accountA, at(500))
		} else {
			items, _, err := s.SequenceStoreList(g.ctx, accountA, meta.SequenceStoreFilter{}, meta.Page{})
			must(t, "SequenceStoreList", err)
			equal(t, "stores of A after two reopenings", len(items), 2)
		}
		must(t, "Close", s.Close())
	}
}
