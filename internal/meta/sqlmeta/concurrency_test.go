package sqlmeta

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

// TestSQLiteWritersNeverSeeBusy writes from many goroutines through two
// stores on one file, as two seqstore processes would: every write must
// wait its turn rather than fail with SQLITE_BUSY, whether it is a single
// statement, a transaction, or the ingest claim.
func TestSQLiteWritersNeverSeeBusy(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "meta.db")
	var stores [2]*Store
	for i := range stores {
		s, err := OpenSQLite(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores[i] = s
	}
	s0 := stores[0]
	now := time.UnixMilli(1_770_000_000_000).UTC()
	if err := s0.AccountPut(ctx, seqstore.Account{ID: acct, Name: "a", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s0.SequenceStoreCreate(ctx, &seqstore.SequenceStore{AccountID: acct, ID: "st", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}

	const workers, rounds = 8, 25
	errs := make(chan error, workers*rounds*10) // room for every step of every round to fail
	claimed := make(chan string, workers*rounds)
	var wg sync.WaitGroup
	for w := range workers {
		s := stores[w%2]
		wg.Go(func() {
			for i := range rounds {
				id := fmt.Sprintf("w%d-%d", w, i)
				r := &seqstore.ReadSet{AccountID: acct, StoreID: "st", ID: id, Status: seqstore.ReadSetStatusProcessingUpload, CreatedAt: now}
				steps := []func() error{
					func() error { return s.ReadSetCreate(ctx, r) },
					func() error { return s.TagsSet(ctx, acct, "arn/"+id, map[string]string{"a": "1", "b": "2"}) },
					func() error {
						u := &seqstore.Upload{AccountID: acct, StoreID: "st", ID: "u-" + id, Status: seqstore.UploadStatusInProgress, CreatedAt: now}
						if err := s.UploadCreate(ctx, u); err != nil {
							return err
						}
						_, err := s.UploadPartPut(ctx, &seqstore.UploadPart{UploadID: u.ID, Source: seqstore.FileSource1, Number: 1, Key: "k", CreatedAt: now})
						return err
					},
					func() error {
						c, _, err := s.IngestClaim(ctx, fmt.Sprint("node", w), now, now.Add(time.Hour))
						if err == nil {
							claimed <- c.ID
						} else if errors.Is(err, meta.ErrNotFound) {
							err = nil
						}
						return err
					},
					func() error {
						_, _, err := s.ReadSetList(ctx, acct, "st", meta.ReadSetFilter{}, meta.Page{Limit: 10})
						return err
					},
					func() error {
						// A transaction that reads before it writes: it
						// must hold the write lock from its start.
						tmp := &seqstore.SequenceStore{AccountID: acct, ID: "tmp-" + id, CreatedAt: now}
						if err := s.SequenceStoreCreate(ctx, tmp); err != nil {
							return err
						}
						return s.SequenceStoreDelete(ctx, acct, tmp.ID)
					},
				}
				for n, step := range steps {
					if err := step(); err != nil {
						errs <- fmt.Errorf("worker %d, round %d, step %d: %w", w, i, n, err)
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	close(claimed)
	for err := range errs {
		t.Error(err)
		if strings.Contains(err.Error(), "SQLITE_BUSY") || strings.Contains(err.Error(), "database is locked") {
			t.Fatal("a writer failed on the lock instead of waiting for it")
		}
	}
	seen := map[string]bool{}
	for id := range claimed {
		if seen[id] {
			t.Fatalf("read set %s was claimed twice", id)
		}
		seen[id] = true
	}
	items, _, err := s0.ReadSetList(ctx, acct, "st", meta.ReadSetFilter{}, meta.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != workers*rounds {
		t.Fatalf("read sets written: got %d, want %d", len(items), workers*rounds)
	}
}

// TestDeleteGuardHoldsUnderRace deletes stores while read sets and uploads
// are created in them: either the delete is refused and everything created
// stays, or it succeeds and nothing was created in the store, never both.
func TestDeleteGuardHoldsUnderRace(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, db database) {
		ctx := context.Background()
		s := mustOpen(t, db, latest)
		defer s.Close()
		now := time.UnixMilli(1_770_000_000_000).UTC()
		if err := s.AccountPut(ctx, seqstore.Account{ID: acct, Name: "a", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		outcomes := map[string]int{}
		for round := range 20 {
			store := fmt.Sprint("race", round)
			if err := s.SequenceStoreCreate(ctx, &seqstore.SequenceStore{AccountID: acct, ID: store, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
			const creators = 4
			var created sync.Map
			var wg sync.WaitGroup
			start := make(chan struct{})
			var delErr error
			createErrs := make([]error, creators)
			for i := range creators {
				wg.Go(func() {
					<-start
					id := fmt.Sprint(store, "-", i)
					var err error
					if i%2 == 0 {
						err = s.ReadSetCreate(ctx, &seqstore.ReadSet{AccountID: acct, StoreID: store, ID: id, Status: seqstore.ReadSetStatusActive, CreatedAt: now})
					} else {
						err = s.UploadCreate(ctx, &seqstore.Upload{AccountID: acct, StoreID: store, ID: id, Status: seqstore.UploadStatusInProgress, CreatedAt: now})
					}
					if err == nil {
						created.Store(id, true)
					} else if !errors.Is(err, meta.ErrNotFound) {
						createErrs[i] = err
					}
				})
			}
			wg.Go(func() {
				<-start
				delErr = s.SequenceStoreDelete(ctx, acct, store)
			})
			close(start)
			wg.Wait()
			for _, err := range createErrs {
				if err != nil {
					t.Fatalf("round %d: create: %v", round, err)
				}
			}
			n := 0
			created.Range(func(_, _ any) bool { n++; return true })
			switch {
			case delErr == nil && n > 0:
				t.Fatalf("round %d: the store was deleted, yet %d things were created in it", round, n)
			case delErr != nil && !errors.Is(delErr, meta.ErrConflict):
				t.Fatalf("round %d: SequenceStoreDelete: %v", round, delErr)
			case delErr != nil && n == 0:
				t.Fatalf("round %d: the delete was refused, yet nothing was created", round)
			case delErr == nil:
				outcomes["deleted first"]++
			default:
				outcomes["created first"]++
			}
		}
		t.Logf("outcomes: %v", outcomes)
	})
}

func TestOpenSQLiteInMemory(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.AccountPut(ctx, seqstore.Account{ID: acct, Name: "a"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.AccountGet(ctx, acct)
	if err != nil || got.Name != "a" {
		t.Fatalf("AccountGet: got %+v, %v", got, err)
	}
	if got, want := version(t, s), latestVersion(t, s.d); got != want {
		t.Fatalf("schema version: got %d, want %d", got, want)
	}
}
