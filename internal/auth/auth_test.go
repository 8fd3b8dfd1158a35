package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seqstore/seqstore/internal/meta/sqlmeta/sqlitetest"
)

const rootAccount = "123456789012"

func TestCheckAccountID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"123456789012", true},
		{"000000000000", true},
		{"12345678901", false},
		{"1234567890123", false},
		{"12345678901a", false},
		{"", false},
		{"１２３４５６７８９０１２", false},
	} {
		if err := CheckAccountID(tc.id); (err == nil) != tc.ok {
			t.Errorf("CheckAccountID(%q) = %v, want ok %v", tc.id, err, tc.ok)
		}
	}
}

// NewAccessKey makes keys in AWS's shapes, never the same twice.
func TestNewAccessKey(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		k := NewAccessKey(rootAccount)
		if len(k.ID) != 20 || !strings.HasPrefix(k.ID, "SQ") || strings.Trim(k.ID, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
			t.Fatalf("key ID %q: want 20 characters of A-Z and 2-7 starting SQ", k.ID)
		}
		if raw, err := base64.StdEncoding.DecodeString(k.Secret); len(k.Secret) != 40 || err != nil || len(raw) != 30 {
			t.Fatalf("secret %q: want 40 characters of base64 (30 random bytes), got %d (%v)", k.Secret, len(k.Secret), err)
		}
		if k.AccountID != rootAccount || seen[k.ID] || seen[k.Secret] {
			t.Fatalf("key %+v: wrong account, or seen before", k)
		}
		seen[k.ID], seen[k.Secret] = true, true
	}
}

// A fresh data directory gets a generated root key, kept in a file only its
// owner reads; the next start reads the same key from it.
func TestEnsureRootGeneratesAndKeepsAKey(t *testing.T) {
	ctx := context.Background()
	m := sqlitetest.Open(t)
	dir := filepath.Join(t.TempDir(), "data")
	first, err := EnsureRoot(ctx, m, rootAccount, "", "", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Generated || first.File != filepath.Join(dir, rootKeyFile) {
		t.Fatalf("first start: generated %v, file %q", first.Generated, first.File)
	}
	fi, err := os.Stat(first.File)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", first.File, fi.Mode().Perm())
	}
	stored, err := m.AccessKeyGet(ctx, first.Key.ID)
	if err != nil || stored.Secret != first.Key.Secret || stored.AccountID != rootAccount {
		t.Fatalf("stored key %+v, %v; want the generated one for %s", stored, err, rootAccount)
	}
	second, err := EnsureRoot(ctx, m, rootAccount, "", "", dir)
	if err != nil {
		t.Fatal(err)
	}
	if second.Generated || second.Key.ID != first.Key.ID || second.Key.Secret != first.Key.Secret {
		t.Errorf("second start: generated %v, key %s; want the first start's %s, not generated", second.Generated, second.Key.ID, first.Key.ID)
	}
}

// The environment's key replaces the one an earlier start took from the
// environment, which stops working; a key deleted by the operator stays
// deleted.
func TestEnsureRootFromTheEnvironment(t *testing.T) {
	ctx := context.Background()
	m := sqlitetest.Open(t)
	dir := t.TempDir()
	if _, err := EnsureRoot(ctx, m, rootAccount, "SQAAAAAAAAAAAAAAAAA1", "", dir); err == nil || !strings.Contains(err.Error(), "SEQSTORE_SECRET_ACCESS_KEY is not") {
		t.Fatalf("an ID without a secret gave %v", err)
	}
	old, err := EnsureRoot(ctx, m, rootAccount, "SQAAAAAAAAAAAAAAAAA1", "secret-one", dir)
	if err != nil {
		t.Fatal(err)
	}
	if old.Generated || old.File != "" {
		t.Errorf("an environment key was reported generated (%v) or kept in a file (%q)", old.Generated, old.File)
	}
	if _, err := os.Stat(filepath.Join(dir, rootKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an environment key left %s behind: %v", rootKeyFile, err)
	}
	next, err := EnsureRoot(ctx, m, rootAccount, "SQAAAAAAAAAAAAAAAAA2", "secret-two", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(next.Retired, []string{"SQAAAAAAAAAAAAAAAAA1"}) {
		t.Errorf("retired %v, want the earlier environment key", next.Retired)
	}
	keys := &Keys{Meta: m}
	if _, err := keys.Lookup(ctx, "SQAAAAAAAAAAAAAAAAA1"); !errors.Is(err, ErrUnknownAccessKey) {
		t.Errorf("the replaced key still looks up: %v", err)
	}
	if k, err := keys.Lookup(ctx, "SQAAAAAAAAAAAAAAAAA2"); err != nil || k.Secret != "secret-two" {
		t.Errorf("the new key looks up as %+v, %v", k, err)
	}
	if err := m.AccessKeyDelete(ctx, "SQAAAAAAAAAAAAAAAAA2"); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureRoot(ctx, m, rootAccount, "SQAAAAAAAAAAAAAAAAA2", "secret-two", dir); err == nil || !strings.Contains(err.Error(), "stays deleted") {
		t.Errorf("a deleted environment key came back: %v", err)
	}
}

// A generated key deleted by the operator stays deleted too, and a damaged
// key file is reported with what to do.
func TestEnsureRootRefusesDeletedAndDamagedKeys(t *testing.T) {
	ctx := context.Background()
	m := sqlitetest.Open(t)
	dir := t.TempDir()
	root, err := EnsureRoot(ctx, m, rootAccount, "", "", dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AccessKeyDelete(ctx, root.Key.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureRoot(ctx, m, rootAccount, "", "", dir); err == nil || !strings.Contains(err.Error(), "stays deleted") || !strings.Contains(err.Error(), "remove that file") {
		t.Errorf("a deleted generated key came back: %v", err)
	}

	damaged := t.TempDir()
	if err := os.WriteFile(filepath.Join(damaged, rootKeyFile), []byte("aws_access_key_id=SQX\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureRoot(ctx, m, rootAccount, "", "", damaged); err == nil || !strings.Contains(err.Error(), "delete it to have a new key made") {
		t.Errorf("a key file without a secret gave %v", err)
	}
	if _, err := EnsureRoot(ctx, m, "12345", "", "", t.TempDir()); err == nil || !strings.Contains(err.Error(), "12 decimal digits") {
		t.Errorf("a short account ID gave %v", err)
	}
}

// Lookups are cached for TTL: a deleted key answers from the cache until
// its entry expires, and not after.
func TestKeysCacheForTTL(t *testing.T) {
	ctx := context.Background()
	m := sqlitetest.Open(t)
	root, err := EnsureRoot(ctx, m, rootAccount, "", "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cached := &Keys{Meta: m, TTL: time.Hour}
	uncached := &Keys{Meta: m, TTL: time.Nanosecond}
	for _, k := range []*Keys{cached, uncached} {
		if got, err := k.Lookup(ctx, root.Key.ID); err != nil || got.Secret != root.Key.Secret || got.AccountID != rootAccount {
			t.Fatalf("lookup of the root key: %+v, %v", got, err)
		}
	}
	if _, err := cached.Lookup(ctx, "SQNOSUCHKEY000000000"); !errors.Is(err, ErrUnknownAccessKey) {
		t.Errorf("an unknown key gave %v, want ErrUnknownAccessKey", err)
	}
	if err := m.AccessKeyDelete(ctx, root.Key.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := cached.Lookup(ctx, root.Key.ID); err != nil {
		t.Errorf("within its TTL a deleted key should still answer from the cache: %v", err)
	}
	time.Sleep(time.Millisecond) // past the nanosecond TTL
	if _, err := uncached.Lookup(ctx, root.Key.ID); !errors.Is(err, ErrUnknownAccessKey) {
		t.Errorf("past its TTL a deleted key still looks up: %v", err)
	}
}
