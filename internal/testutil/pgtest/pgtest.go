// Package pgtest gives each test a PostgreSQL schema of its own in the test
// database, so tests against the scale-out metadata store can run side by
// side and leave nothing behind.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver "pgx"

	"github.com/seqstore/seqstore/internal/testutil"
)

// BaseDSN is the test database: SEQSTORE_TEST_POSTGRES, or the local server's
// database "test" with trust authentication.
func BaseDSN() string {
	if v := os.Getenv("SEQSTORE_TEST_POSTGRES"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// NewSchemaDSN creates a fresh schema and returns a DSN whose search_path is
// that schema. The schema is dropped when the test ends. Without a reachable
// server the test skips, or fails under CI.
func NewSchemaDSN(t testing.TB) string {
	t.Helper()
	base := BaseDSN()
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		if testutil.InCI() {
			t.Fatalf("PostgreSQL at %s is unreachable: %v", base, err)
		}
		t.Skipf("PostgreSQL at %s is unreachable: %v", base, err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		db.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
