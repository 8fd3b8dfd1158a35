// Package sqlitetest opens a real, empty SQLite metadata store for a test,
// in the test's temporary directory, closed when the test ends.
package sqlitetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/seqstore/seqstore/internal/meta/sqlmeta"
)

// Open returns a fresh store with every migration applied.
func Open(t testing.TB) *sqlmeta.Store {
	t.Helper()
	s, err := sqlmeta.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
