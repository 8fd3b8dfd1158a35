package sqlmeta

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seqstore/seqstore"
)

func accountIDs(t *testing.T, s *Store) map[string]bool {
	t.Helper()
	list, err := s.AccountList(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, a := range list {
		ids[a.ID] = true
	}
	return ids
}

// openSQLiteFile opens a new database file in a new directory.
func openSQLiteFile(t *testing.T) (s *Store, dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "metadata.db")
	s, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir, path
}

func putAccount(ctx context.Context, s *Store, n int) error {
	return s.AccountPut(ctx, seqstore.Account{ID: fmt.Sprintf("%012d", n), Name: fmt.Sprintf("a%d", n), CreatedAt: time.Now()})
}

// A backup taken while a writer commits is one consistent snapshot; restore
// refuses while the database is open, then puts the backup in place and
// keeps what it replaced.
func TestBackupAndRestoreSQLite(t *testing.T) {
	ctx := context.Background()
	s, dir, path := openSQLiteFile(t)
	var written atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for n := 1; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := putAccount(ctx, s, n); err != nil {
				t.Error(err)
				return
			}
			written.Store(int64(n))
		}
	})
	for written.Load() < 50 {
		time.Sleep(time.Millisecond)
	}
	backup := filepath.Join(dir, "backup.db")
	before := written.Load()
	version, err := BackupSQLite(ctx, path, backup)
	after := written.Load()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if known, _ := newestMigration(&sqliteDialect); version != known {
		t.Errorf("backup at schema version %d, want %d", version, known)
	}
	if _, err := BackupSQLite(ctx, path, backup); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("a backup over an existing file: %v, want a refusal", err)
	}
	if _, err := RestoreSQLite(ctx, backup, path); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("a restore under an open store: %v, want a refusal saying the database is in use", err)
	}
	all := accountIDs(t, s)
	s.Close()

	kept, err := RestoreSQLite(ctx, backup, path)
	if err != nil {
		t.Fatal(err)
	}
	restored, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	got := accountIDs(t, restored)
	restored.Close()
	// The snapshot holds a prefix of the writes: every account up to some
	// n between the writes seen before and after the backup, and no other.
	n := int64(len(got))
	if n < before || n > after {
		t.Fatalf("the backup holds %d accounts; %d were written before it began and %d when it ended", n, before, after)
	}
	for i := int64(1); i <= n; i++ {
		if !got[fmt.Sprintf("%012d", i)] {
			t.Fatalf("the backup of %d accounts lacks account %d: it is no snapshot", n, i)
		}
	}
	old, err := OpenSQLite(ctx, kept)
	if err != nil {
		t.Fatalf("the replaced database %q: %v", kept, err)
	}
	if len(accountIDs(t, old)) != len(all) {
		t.Errorf("the replaced database kept %d accounts, it had %d", len(accountIDs(t, old)), len(all))
	}
	old.Close()
}

func TestRestoreRefusesBadBackups(t *testing.T) {
	ctx := context.Background()
	s, dir, path := openSQLiteFile(t)
	s.Close()
	newer := filepath.Join(dir, "newer.db")
	if _, err := BackupSQLite(ctx, path, newer); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ from, want string }{
		{newer, "newer than this seqstore"},
		{garbage, "no seqstore SQLite database"},
		{filepath.Join(dir, "missing.db"), "no such file"},
	} {
		if _, err := RestoreSQLite(ctx, c.from, path); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("restore from %s: %v, want an error saying %q", filepath.Base(c.from), err, c.want)
		}
	}
	if s, err := OpenSQLite(ctx, path); err != nil {
		t.Errorf("the database after refused restores: %v", err)
	} else {
		s.Close()
	}
}
