// Package sqlmeta implements the metadata store (meta.Store) over SQL, once,
// for two databases: an embedded SQLite file through the pure-Go
// modernc.org/sqlite driver (no cgo), the default for one node, and
// PostgreSQL through pgx, which several nodes share.
//
// One set of queries serves both. They are written in the subset the two
// understand (ON CONFLICT upserts, RETURNING, $n placeholders) and the few
// places where the dialects part are gathered in dialect.go: placeholder
// syntax, row locks, the ingest claim, error codes, the migration lock.
//
// Storage choices, the same in both dialects:
//   - Times are BIGINT unix milliseconds in UTC (0 stands for the zero
//     time) and come back as UTC time.Time values truncated to the
//     millisecond. Integers compare and index alike in both databases,
//     which keeps keyset pagination and time filters identical.
//   - Everything a list filters or orders on is a real column; only nested
//     leftovers (file lists, tags on uploads and read sets, propagated tag
//     keys, sequence information, ETags) are JSON text.
//   - Every query of an account's resources is scoped by account_id, and
//     child rows carry their account in the foreign key to their store.
//
// Concurrency: SQLite has one writer at a time per database file. The store
// keeps one connection for writes, so writers in a process queue in Go
// instead of spinning on SQLITE_BUSY, and opens its transactions with BEGIN
// IMMEDIATE under a busy timeout, so writers in other processes wait for the
// lock instead of failing; reads use a separate pool of read-only
// connections, which WAL mode lets run beside the writer. On PostgreSQL,
// guards that must see the rows they protect lock them (FOR UPDATE), and the
// ingest and job-item claims skip rows other nodes hold (FOR UPDATE SKIP
// LOCKED).
//
// The schema is versioned: numbered files under migrations/<dialect>/ are
// applied in order, in one transaction, when the store opens; applied
// versions are recorded in schema_migrations.
package sqlmeta

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/seqstore/seqstore/internal/meta"
)

// Store is the SQL metadata store.
type Store struct {
	d *dialect
	// write runs every statement that changes something and every
	// transaction; read runs the rest. They are the same pool except on
	// SQLite, where write is the single writer connection.
	write, read *pool
}

var _ meta.Store = (*Store)(nil)

// sqliteBusyTimeout is how long a SQLite writer waits for another process's
// write lock before giving up.
const sqliteBusyTimeout = 30 * time.Second

// OpenSQLite opens, creating it if needed, the SQLite database at path and
// migrates its schema to the current version. path is a file name; ":memory:"
// gives a private in-memory database on one connection, for tests.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	return openSQLite(ctx, path, latest)
}

func openSQLite(ctx context.Context, path string, upTo int) (*Store, error) {
	if path == ":memory:" {
		return openSQLiteOnce(ctx, path, upTo)
	}
	// Several processes opening one new file at once race to switch it to
	// WAL and to recover its WAL index; SQLite answers the loser SQLITE_BUSY
	// at once, without calling the busy handler (waiting could deadlock).
	// The race is over in milliseconds, so opening again is safe.
	deadline := time.Now().Add(sqliteBusyTimeout)
	for backoff := time.Millisecond; ; backoff = min(2*backoff, 100*time.Millisecond) {
		s, err := openSQLiteOnce(ctx, path, upTo)
		if err == nil || !isSQLiteBusy(err) || time.Now().After(deadline) {
			return s, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(backoff):
		}
	}
}

func openSQLiteOnce(ctx context.Context, path string, upTo int) (*Store, error) {
	common := "_pragma=busy_timeout(" + strconv.Itoa(int(sqliteBusyTimeout/time.Millisecond)) + ")&_pragma=foreign_keys(1)"
	if path == ":memory:" {
		db, err := sql.Open("sqlite", "file::memory:?"+common+"&_txlock=immediate")
		if err != nil {
			return nil, err
		}
		// Every connection to :memory: is a database of its own.
		db.SetMaxOpenConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		p := newPool(db, &sqliteDialect)
		return finishOpen(ctx, &Store{d: &sqliteDialect, write: p, read: p}, upTo, "sqlite :memory:")
	}
	// WAL lets readers run beside the writer, and synchronous=NORMAL is
	// durable across a crash of the process (a power cut may lose the last
	// commits, never corrupt the file). _txlock=immediate makes BEGIN take
	// the write lock, so a transaction never fails half way when it turns
	// from reading to writing.
	writer, err := sql.Open("sqlite", "file:"+path+"?"+common+"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	// The writer sets journal_mode=WAL, which is persistent, before any
	// reader opens the file.
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	reader, err := sql.Open("sqlite", "file:"+path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		writer.Close()
		return nil, err
	}
	// Keep every connection: opening one costs more than most queries.
	reader.SetMaxOpenConns(4)
	reader.SetMaxIdleConns(4)
	reader.SetConnMaxIdleTime(0)
	s := &Store{d: &sqliteDialect, write: newPool(writer, &sqliteDialect), read: newPool(reader, &sqliteDialect)}
	return finishOpen(ctx, s, upTo, "sqlite "+path)
}

// OpenPostgres connects to PostgreSQL and migrates the schema to the current
// version. dsn is a URL or key=value string as libpq takes it; its
// search_path parameter, if any, picks the schema the tables live in, which
// is created if it does not exist, so several seqstores (or tests) can share
// one database.
func OpenPostgres(ctx context.Context, dsn string) (*Store, error) {
	return openPostgres(ctx, dsn, latest)
}

func openPostgres(ctx context.Context, dsn string, upTo int) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres %s@%s:%d/%s: %w", cfg.User, cfg.Host, cfg.Port, cfg.Database, err)
	}
	p := newPool(db, &postgresDialect)
	s := &Store{d: &postgresDialect, write: p, read: p}
	schema, _, _ := strings.Cut(cfg.RuntimeParams["search_path"], ",")
	return finishOpenSchema(ctx, s, upTo, "postgres "+cfg.Database, strings.TrimSpace(schema))
}

func finishOpen(ctx context.Context, s *Store, upTo int, what string) (*Store, error) {
	return finishOpenSchema(ctx, s, upTo, what, "")
}

func finishOpenSchema(ctx context.Context, s *Store, upTo int, what, schema string) (*Store, error) {
	if err := s.migrate(ctx, upTo, schema); err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	err := s.write.close()
	if s.read != s.write {
		err = errors.Join(err, s.read.close())
	}
	return err
}

// maxCachedStatements bounds the prepared statements a pool keeps. The
// queries are a fixed set plus list queries whose WHERE clause depends on
// which filters are set; the bound only matters if some caller sets filters
// in every combination.
const maxCachedStatements = 256

// pool is a database handle with prepared statements cached by query text:
// parsing SQL is most of the cost of a small query, above all in SQLite.
type pool struct {
	db     *sql.DB
	d      *dialect
	stmts  sync.Map // query as written ($n placeholders) -> *sql.Stmt
	cached atomic.Int32
}

func newPool(db *sql.DB, d *dialect) *pool { return &pool{db: db, d: d} }

func (p *pool) close() error {
	p.stmts.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
	return p.db.Close()
}

// stmt returns the prepared statement for a query written with $n
// placeholders, or nil when the cache is full.
func (p *pool) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := p.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	if p.cached.Load() >= maxCachedStatements {
		return nil, nil
	}
	st, err := p.db.PrepareContext(ctx, p.d.rewrite(query))
	if err != nil {
		return nil, translate(err)
	}
	if prev, loaded := p.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	p.cached.Add(1)
	return st, nil
}

func (p *pool) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	var res sql.Result
	if st == nil {
		res, err = p.db.ExecContext(ctx, p.d.rewrite(query), args...)
	} else {
		res, err = st.ExecContext(ctx, args...)
	}
	return res, translate(err)
}

func (p *pool) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := p.stmt(ctx, query)
	if err != nil || st == nil {
		// Unprepared; a query that failed to prepare fails again here and
		// reports it from Scan.
		return p.db.QueryRowContext(ctx, p.d.rewrite(query), args...)
	}
	return st.QueryRowContext(ctx, args...)
}

func (p *pool) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	var rows *sql.Rows
	if st == nil {
		rows, err = p.db.QueryContext(ctx, p.d.rewrite(query), args...)
	} else {
		rows, err = st.QueryContext(ctx, args...)
	}
	return rows, translate(err)
}

// txRunner runs queries inside a transaction, through the pool's prepared
// statements.
type txRunner struct {
	tx *sql.Tx
	p  *pool
}

// stmt returns the pool's prepared statement bound to the transaction, or
// nil to run the query unprepared. It never prepares: preparing on the pool
// needs a connection of its own, and SQLite's writer pool has exactly one,
// which the transaction holds.
func (t *txRunner) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	st, ok := t.p.stmts.Load(query)
	if !ok {
		return nil, nil
	}
	return t.tx.StmtContext(ctx, st.(*sql.Stmt)), nil
}

func (t *txRunner) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	var res sql.Result
	if st == nil {
		res, err = t.tx.ExecContext(ctx, t.p.d.rewrite(query), args...)
	} else {
		res, err = st.ExecContext(ctx, args...)
	}
	return res, translate(err)
}

func (t *txRunner) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := t.stmt(ctx, query)
	if err != nil || st == nil {
		return t.tx.QueryRowContext(ctx, t.p.d.rewrite(query), args...)
	}
	return st.QueryRowContext(ctx, args...)
}

func (t *txRunner) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	var rows *sql.Rows
	if st == nil {
		rows, err = t.tx.QueryContext(ctx, t.p.d.rewrite(query), args...)
	} else {
		rows, err = st.QueryContext(ctx, args...)
	}
	return rows, translate(err)
}

// txAttempts is how often a transaction PostgreSQL aborted to break a
// deadlock or a serialization conflict is tried.
const txAttempts = 3

// tx runs fn in a write transaction and commits it unless fn fails. fn may
// run more than once on PostgreSQL, so it must not keep state across runs
// other than what it returns through the transaction.
func (s *Store) tx(ctx context.Context, fn func(t *txRunner) error) error {
	for attempt := 1; ; attempt++ {
		err := s.txOnce(ctx, fn)
		if attempt < txAttempts && s.d.retryable(err) {
			continue
		}
		return err
	}
}

func (s *Store) txOnce(ctx context.Context, fn func(t *txRunner) error) error {
	tx, err := s.write.db.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	if err := fn(&txRunner{tx: tx, p: s.write}); err != nil {
		tx.Rollback()
		return translate(err)
	}
	return translate(tx.Commit())
}

// translate maps driver errors to the meta sentinels, keeping the driver's
// message. It is idempotent.
func translate(err error) error {
	if err == nil || errors.Is(err, meta.ErrNotFound) || errors.Is(err, meta.ErrConflict) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return meta.ErrNotFound
	}
	switch constraintOf(err) {
	case uniqueViolation:
		return fmt.Errorf("%w: %v", meta.ErrConflict, err)
	case foreignKeyViolation:
		// Every foreign key points from a child to the store or upload it
		// belongs to: the parent is missing.
		return fmt.Errorf("%w: the store or upload it belongs to does not exist: %v", meta.ErrNotFound, err)
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

// millis and fromMillis convert times; the zero time is stored as 0.
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

// toJSON encodes a nested leftover. The values are plain structs, slices
// and maps of strings and numbers, which always encode.
func toJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sqlmeta: encode %T: %v", v, err))
	}
	return string(b)
}

func fromJSON(column, s string, v any) error {
	if s == "" || s == "null" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("sqlmeta: column %s holds malformed JSON: %w", column, err)
	}
	return nil
}

// lockKey is the PostgreSQL advisory lock key that serializes migrations of
// one schema.
func lockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("seqstore schema migration " + schema))
	return int64(h.Sum64())
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// collect scans every row with scan.
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, translate(rows.Err())
}

// scanString scans a row of one text column.
func scanString(row scanner) (string, error) {
	var v string
	err := row.Scan(&v)
	return v, err
}

// conflictf returns an error that wraps meta.ErrConflict.
func conflictf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{meta.ErrConflict}, args...)...)
}
