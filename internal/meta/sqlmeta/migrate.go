package sqlmeta

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// latest asks migrate for every migration there is.
const latest = int(^uint(0) >> 1)

// migration is one numbered schema change.
type migration struct {
	version int
	file    string
	body    string
}

// migrations returns a dialect's migrations in version order. Files are
// named NNNN_what.sql; versions must be unique.
func migrations(d *dialect) ([]migration, error) {
	dir := "migrations/" + d.name
	names, err := fs.Glob(migrationFiles, dir+"/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, name := range names {
		base := path.Base(name)
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: the name must start with a positive version number and '_'", name)
		}
		body, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, file: name, body: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s have the same version", out[i-1].file, out[i].file)
		}
	}
	return out, nil
}

// statements splits a migration into statements: comment lines are
// dropped, and statements end at ';'. Migrations keep ';' out of strings.
func statements(body string) []string {
	var b strings.Builder
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	var out []string
	for _, st := range strings.Split(b.String(), ";") {
		if st = strings.TrimSpace(st); st != "" {
			out = append(out, st)
		}
	}
	return out
}

// migrate applies, in one transaction and in order, the migrations up to
// version upTo that the database lacks. On PostgreSQL an advisory lock
// keyed by the schema makes nodes that start together take turns; the
// second finds the work done. schema, when set, is created if missing.
func (s *Store) migrate(ctx context.Context, upTo int, schema string) error {
	all, err := migrations(s.d)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(t *txRunner) error {
		if s.d == &postgresDialect {
			if _, err := t.tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey(schema)); err != nil {
				return fmt.Errorf("take the migration lock: %w", err)
			}
			if err := createSchema(ctx, t, schema); err != nil {
				return err
			}
		}
		if _, err := t.tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			applied_at BIGINT NOT NULL
		)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		applied := map[int]bool{}
		rows, err := t.tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return err
		}
		newest := 0
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return err
			}
			applied[v] = true
			newest = max(newest, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if known := all[len(all)-1].version; newest > known {
			return fmt.Errorf("the database's schema is at version %d, newer than this seqstore knows (%d): run a newer seqstore", newest, known)
		}
		for _, m := range all {
			if m.version > upTo || applied[m.version] {
				continue
			}
			for i, st := range statements(m.body) {
				if _, err := t.tx.ExecContext(ctx, st); err != nil {
					return fmt.Errorf("migration %s, statement %d: %w", m.file, i+1, err)
				}
			}
			if _, err := t.tx.ExecContext(ctx, s.d.rewrite(`INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`),
				m.version, time.Now().UnixMilli()); err != nil {
				return err
			}
		}
		return nil
	})
}

// createSchema creates the PostgreSQL schema the search_path names first,
// if it is missing. Checking first spares a user without the CREATE
// privilege on the database an error for a schema that exists.
func createSchema(ctx context.Context, t *txRunner, schema string) error {
	schema = strings.Trim(schema, `"`)
	if schema == "" || strings.HasPrefix(schema, "$") {
		return nil
	}
	var exists bool
	if err := t.tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	if _, err := t.tx.ExecContext(ctx, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("create schema %s: %w", schema, err)
	}
	return nil
}

// newestMigration is the version of the newest migration of a dialect
// this binary has.
func newestMigration(d *dialect) (int, error) {
	all, err := migrations(d)
	if err != nil {
		return 0, err
	}
	return all[len(all)-1].version, nil
}

// SchemaVersion returns the newest migration applied to the database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v *int64
	if err := s.read.queryRow(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, translate(err)
	}
	if v == nil {
		return 0, nil
	}
	return int(*v), nil
}

// CheckSchema returns nil when the database's schema is at the newest
// version this binary knows, and otherwise says which it is: a node whose
// database a newer seqstore has moved on, or that cannot read the version
// at all, is not ready to serve.
func (s *Store) CheckSchema(ctx context.Context) error {
	known, err := newestMigration(s.d)
	if err != nil {
		return err
	}
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if v != known {
		return fmt.Errorf("the database's schema is at version %d, this seqstore's is %d: run the seqstore that matches it", v, known)
	}
	return nil
}
