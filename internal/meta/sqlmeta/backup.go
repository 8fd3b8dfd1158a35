package sqlmeta

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// BackupSQLite writes a consistent copy of the SQLite database at path to
// the new file to, while servers go on using the database: VACUUM INTO
// reads one snapshot (a transaction) and writes it compacted, so a write
// that lands meanwhile is in the copy whole or not at all, where a copy of
// the file (and its write-ahead log) could catch a page half written. The
// copy is checked before it takes its name; it returns the copy's schema
// version.
func BackupSQLite(ctx context.Context, path, to string) (version int, err error) {
	if _, err := os.Stat(path); err != nil {
		return 0, fmt.Errorf("no database to back up: %w", err)
	}
	if _, err := os.Lstat(to); err == nil {
		return 0, fmt.Errorf("%s exists: back up to a new file", to)
	}
	partial := to + ".partial"
	os.Remove(partial)
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, partial); err != nil {
		os.Remove(partial)
		return 0, fmt.Errorf("back up %s: %w", path, err)
	}
	if version, err = checkSQLiteCopy(ctx, partial); err != nil {
		os.Remove(partial)
		return 0, err
	}
	if err := syncFile(partial); err != nil {
		os.Remove(partial)
		return 0, err
	}
	if err := os.Rename(partial, to); err != nil {
		os.Remove(partial)
		return 0, err
	}
	return version, syncDir(filepath.Dir(to))
}

// RestoreSQLite puts the backup from in place of the database at path. It
// refuses while any process has the database open (stop every server
// first), and a backup that is damaged or newer than this binary. The
// database it replaces is kept beside it, named path.before-restore-TIME,
// which it returns ("" when there was none).
func RestoreSQLite(ctx context.Context, from, path string) (kept string, err error) {
	version, err := checkSQLiteCopy(ctx, from)
	if err != nil {
		return "", err
	}
	known, err := newestMigration(&sqliteDialect)
	if err != nil {
		return "", err
	}
	if version > known {
		return "", fmt.Errorf("the backup's schema is at version %d, newer than this seqstore knows (%d): restore it with the seqstore that made it", version, known)
	}
	incoming := path + ".restoring"
	if err := copyFile(from, incoming); err != nil {
		os.Remove(incoming)
		return "", err
	}
	if _, err := os.Stat(path); err == nil {
		kept = path + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
		if err := setAside(ctx, path, kept); err != nil {
			os.Remove(incoming)
			return "", err
		}
	}
	if err := os.Rename(incoming, path); err != nil {
		return kept, err
	}
	return kept, syncDir(filepath.Dir(path))
}

// setAside renames the database at path to kept, with its write-ahead log
// folded in. Taking the database's exclusive lock first proves that no
// process has it open: a running server would hold a shared lock.
func setAside(ctx context.Context, path, kept string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)&_pragma=locking_mode(EXCLUSIVE)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	inUse := func(err error) error {
		return fmt.Errorf("the database %s is in use (%v): stop every seqstore that serves it, then restore", path, err)
	}
	var busy, logged, moved int
	if err := db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logged, &moved); err != nil {
		return inUse(err)
	}
	if busy != 0 {
		return inUse(errors.New("a checkpoint found readers"))
	}
	if _, err := db.ExecContext(ctx, `BEGIN EXCLUSIVE`); err != nil {
		return inUse(err)
	}
	if _, err := db.ExecContext(ctx, `COMMIT`); err != nil {
		return err
	}
	if err := os.Rename(path, kept); err != nil {
		return err
	}
	db.Close()
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// checkSQLiteCopy opens a backup read-only, checks its integrity and
// returns its schema version.
func checkSQLiteCopy(ctx context.Context, file string) (int, error) {
	if _, err := os.Stat(file); err != nil {
		return 0, err
	}
	db, err := sql.Open("sqlite", "file:"+file+"?mode=ro")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var result string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&result); err != nil {
		return 0, fmt.Errorf("%s is no seqstore SQLite database: %w", file, err)
	}
	if result != "ok" {
		return 0, fmt.Errorf("%s is damaged: %s", file, result)
	}
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil || !v.Valid {
		return 0, fmt.Errorf("%s is no seqstore database (it has no schema version): %v", file, err)
	}
	return int(v.Int64), nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncFile(name string) error {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
