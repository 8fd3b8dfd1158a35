package sqlmeta

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"testing"

	"github.com/seqstore/seqstore/internal/testutil/pgtest"
)

// TestOpenPostgresCreatesItsSchema opens a store whose search_path names a
// schema that does not exist yet: the schema is created and the tables go
// into it, not into public.
func TestOpenPostgresCreatesItsSchema(t *testing.T) {
	ctx := context.Background()
	pgtest.NewSchemaDSN(t) // skips, or fails in CI, without a server
	base := pgtest.BaseDSN()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_new_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	t.Cleanup(func() { admin.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE") })

	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	s, err := OpenPostgres(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var tables int
	if err := admin.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name IN ('schema_migrations', 'read_sets', 'sequence_stores')`, schema).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 3 {
		t.Fatalf("schema %s holds %d of the 3 tables looked for", schema, tables)
	}
}
