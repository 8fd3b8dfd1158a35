// Package sqlmeta implements the metadata store over SQL, once, for two
// databases: an embedded SQLite file (the pure-Go modernc.org/sqlite driver,
// no cgo), the default for one node, and PostgreSQL (pgx), which several
// nodes share. The queries are written once in a common subset: times are
// unix milliseconds, placeholders are $n (rewritten to ?n for SQLite), and
// upserts use ON CONFLICT, which both understand. The one place the dialects
// part is the ingest claim, which PostgreSQL takes with SKIP LOCKED.
//
// The schema is versioned: numbered files under migrations/ are applied in
// order, each in a transaction, when the store opens.
package sqlmeta

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/seqstore/seqstore/internal/meta"
)

//go:embed migrations/*.sql
var migrations embed.FS

type dialect int

const (
	dialectSQLite dialect = iota
	dialectPostgres
)

// Store is the SQL metadata store.
type Store struct {
	db      *sql.DB
	dialect dialect
	// stmts caches prepared statements by query text: parsing SQL is most
	// of the cost of a small query, above all in SQLite.
	stmts sync.Map
}

var _ meta.Store = (*Store)(nil)

// OpenSQLite opens (creating if needed) the SQLite database at path.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	// WAL lets readers run beside the writer; busy_timeout makes writers
	// queue instead of failing with SQLITE_BUSY; immediate transactions take
	// the write lock at BEGIN so a transaction never fails half way when it
	// upgrades from reading to writing.
	dsn := "file:" + path + "?_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(8)
	// Keep every connection: opening one costs more than most queries.
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(0)
	s := &Store{db: db, dialect: dialectSQLite}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	return s, nil
}

// OpenPostgres connects to PostgreSQL. A search_path in the URL selects the
// schema.
func OpenPostgres(ctx context.Context, dsn string) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w (check -metadata: host, port, user, database, sslmode)", err)
	}
	s := &Store{db: db, dialect: dialectPostgres}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.stmts.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
	return s.db.Close()
}

var placeholder = regexp.MustCompile(`\$(\d+)`)

// q adapts a query written with $n placeholders to the dialect.
func (s *Store) q(query string) string {
	if s.dialect == dialectSQLite {
		return placeholder.ReplaceAllString(query, "?$1")
	}
	return query
}

// stmt returns the prepared statement for a query written with $n
// placeholders.
func (s *Store) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, s.q(query))
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := s.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	res, err := st.ExecContext(ctx, args...)
	return res, translate(err)
}

func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := s.stmt(ctx, query)
	if err != nil {
		// A failed prepare surfaces from Scan, through a query that fails
		// the same way.
		return s.db.QueryRowContext(ctx, s.q(query), args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// query runs a query that returns rows, through the statement cache.
func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := s.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// tx runs fn in a transaction.
func (s *Store) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return translate(err)
	}
	return translate(tx.Commit())
}

// translate maps driver errors to the meta sentinels.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return meta.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("%w: %s", meta.ErrConflict, pe.Message)
	}
	var se *sqlite.Error
	if errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE) {
		return fmt.Errorf("%w: %s", meta.ErrConflict, se.Error())
	}
	return err
}

// affected reports ErrNotFound when a statement changed no row.
func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return meta.ErrNotFound
	}
	return nil
}

// migrate applies the migrations the database lacks.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return err
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		base := strings.TrimPrefix(f, "migrations/")
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with its number", f)
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return err
		}
		err = s.tx(ctx, func(tx *sql.Tx) error {
			if s.dialect == dialectPostgres {
				// Two nodes starting at once must not both migrate.
				if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(727274)`); err != nil {
					return err
				}
			}
			var n int
			if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM schema_migrations WHERE version = $1`), version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			for _, stmt := range strings.Split(stripComments(string(body)), ";") {
				if strings.TrimSpace(stmt) == "" {
					continue
				}
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("migration %s: %w", base, err)
				}
			}
			_, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`), version, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// SchemaVersion returns the newest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := s.queryRow(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v)
	return int(v.Int64), err
}

// millis and fromMillis convert times; zero stays zero.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func toJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func fromJSON(s string, v any) error {
	if s == "" || s == "null" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}

// filter accumulates WHERE conditions with numbered arguments.
type filter struct {
	conds []string
	args  []any
}

func (f *filter) add(cond string, arg any) {
	f.args = append(f.args, arg)
	f.conds = append(f.conds, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(f.args))))
}

func (f *filter) eq(column, value string) {
	if value != "" {
		f.add(column+" = ?", value)
	}
}

func (f *filter) timeRange(column string, r meta.TimeRange) {
	if !r.After.IsZero() {
		f.add(column+" >= ?", r.After.UnixMilli())
	}
	if !r.Before.IsZero() {
		f.add(column+" <= ?", r.Before.UnixMilli())
	}
}

// page adds keyset pagination on (created_at, id) and returns the LIMIT.
func (f *filter) page(p meta.Page) (string, error) {
	if p.After != "" {
		ms, id, ok := strings.Cut(p.After, ":")
		t, err := strconv.ParseInt(ms, 10, 64)
		if !ok || err != nil || id == "" {
			return "", meta.ErrBadPageKey
		}
		f.args = append(f.args, t, id)
		n := len(f.args)
		f.conds = append(f.conds, fmt.Sprintf("(created_at > $%d OR (created_at = $%d AND id > $%d))", n-1, n-1, n))
	}
	limit := p.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	return fmt.Sprintf(" ORDER BY created_at, id LIMIT %d", limit+1), nil
}

func (f *filter) where() string {
	if len(f.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(f.conds, " AND ")
}

// pageKey is the key of the item after which the next page starts.
func pageKey(created time.Time, id string) string {
	return strconv.FormatInt(created.UnixMilli(), 10) + ":" + id
}
