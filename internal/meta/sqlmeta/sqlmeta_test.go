package sqlmeta_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/meta/metatest"
	"github.com/seqstore/seqstore/internal/meta/sqlmeta"
	"github.com/seqstore/seqstore/internal/testutil/pgtest"
)

// openSQLite opens a store on a new SQLite file and closes it when the test
// ends.
func openSQLite(t testing.TB) *sqlmeta.Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "meta.db"), sqlmeta.OpenSQLite)
}

// openPostgres opens a store in a new PostgreSQL schema and closes it when
// the test ends.
func openPostgres(t testing.TB) *sqlmeta.Store {
	t.Helper()
	return openAt(t, pgtest.NewSchemaDSN(t), sqlmeta.OpenPostgres)
}

func openAt(t testing.TB, where string, open func(context.Context, string) (*sqlmeta.Store, error)) *sqlmeta.Store {
	t.Helper()
	s, err := open(context.Background(), where)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// drivers are the two databases sqlmeta runs on. reopener returns a
// function that opens the same database each time it is called.
var drivers = []struct {
	name     string
	open     func(t testing.TB) *sqlmeta.Store
	reopener func(t testing.TB) func(t *testing.T) *sqlmeta.Store
}{
	{"SQLite", openSQLite, func(t testing.TB) func(t *testing.T) *sqlmeta.Store {
		path := filepath.Join(t.TempDir(), "meta.db")
		return func(t *testing.T) *sqlmeta.Store { return reopen(t, path, sqlmeta.OpenSQLite) }
	}},
	{"PostgreSQL", openPostgres, func(t testing.TB) func(t *testing.T) *sqlmeta.Store {
		dsn := pgtest.NewSchemaDSN(t)
		return func(t *testing.T) *sqlmeta.Store { return reopen(t, dsn, sqlmeta.OpenPostgres) }
	}},
}

// reopen opens a store that the caller closes.
func reopen(t *testing.T, where string, open func(context.Context, string) (*sqlmeta.Store, error)) *sqlmeta.Store {
	t.Helper()
	s, err := open(context.Background(), where)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			metatest.Run(t, func(t *testing.T) meta.Store { return d.open(t) })
		})
	}
}

func TestPersistenceAcrossReopening(t *testing.T) {
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			open := d.reopener(t)
			metatest.RunPersistence(t, func(t *testing.T) meta.Store { return open(t) })
		})
	}
}

func TestReopeningAppliesNoMigration(t *testing.T) {
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			open := d.reopener(t)
			s := open(t)
			want, err := s.SchemaVersion(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want < 1 {
				t.Fatalf("a new database is at schema version %d, want at least 1", want)
			}
			s.Close()
			for range 2 {
				s := open(t)
				got, err := s.SchemaVersion(ctx)
				s.Close()
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("schema version after reopening: got %d, want %d", got, want)
				}
			}
		})
	}
}

func BenchmarkSequenceStoreGet(b *testing.B) {
	for _, d := range drivers {
		b.Run(d.name, func(b *testing.B) { metatest.BenchmarkSequenceStoreGet(b, d.open(b)) })
	}
}

func BenchmarkReadSetGet(b *testing.B) {
	for _, d := range drivers {
		b.Run(d.name, func(b *testing.B) { metatest.BenchmarkReadSetGet(b, d.open(b)) })
	}
}
