package metacache_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/meta/metacache"
	"github.com/seqstore/seqstore/internal/meta/metatest"
	"github.com/seqstore/seqstore/internal/meta/sqlmeta"
	"github.com/seqstore/seqstore/internal/meta/sqlmeta/sqlitetest"
)

func TestCacheSeesItsOwnWritesAndOthersAfterTTL(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	db, err := sqlmeta.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	other, err := sqlmeta.OpenSQLite(ctx, path) // another node on the same database
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	c := metacache.New(db, 200*time.Millisecond)
	now := time.Now().UTC()
	st := &seqstore.SequenceStore{AccountID: "123456789012", ID: "1111111111", Name: "a", ETagAlgorithmFamily: "MD5up", Status: "ACTIVE", CreatedAt: now, UpdatedAt: now}
	if err := c.SequenceStoreCreate(ctx, st); err != nil {
		t.Fatal(err)
	}
	get := func() string {
		t.Helper()
		got, err := c.SequenceStoreGet(ctx, st.AccountID, st.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Name
	}
	if get() != "a" {
		t.Fatal("first read")
	}
	st.Name = "b"
	if err := c.SequenceStoreUpdate(ctx, st); err != nil {
		t.Fatal(err)
	}
	if got := get(); got != "b" {
		t.Fatalf("own update not seen: %s", got)
	}
	st.Name = "c"
	if err := other.SequenceStoreUpdate(ctx, st); err != nil {
		t.Fatal(err)
	}
	time.Sleep(250 * time.Millisecond)
	if got := get(); got != "c" {
		t.Fatalf("another node's update not seen after the TTL: %s", got)
	}
	if err := c.SequenceStoreDelete(ctx, st.AccountID, st.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SequenceStoreGet(ctx, st.AccountID, st.ID); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("own delete not seen: %v", err)
	}
	// Another account never reads the cached copy of this one's store.
	if _, err := c.SequenceStoreGet(ctx, "210987654321", st.ID); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("cross-account read: %v", err)
	}
}

// The cache keeps every promise of the metadata store.
func TestConformance(t *testing.T) {
	metatest.Run(t, func(t *testing.T) meta.Store {
		db := sqlitetest.Open(t)
		return metacache.New(db, time.Minute)
	})
}
