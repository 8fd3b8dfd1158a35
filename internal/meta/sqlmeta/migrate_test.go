package sqlmeta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/testutil/pgtest"
)

// database is one place a store lives, for tests that open it several
// times, at chosen schema versions.
type database struct {
	name string
	open func(ctx context.Context, upTo int) (*Store, error)
	// raw runs SQL on the database behind the store's back.
	raw func(t *testing.T, s *Store, query string)
}

func rawExec(t *testing.T, s *Store, query string) {
	t.Helper()
	if _, err := s.write.db.ExecContext(context.Background(), query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// forEachDatabase runs test on a new SQLite file and in a new PostgreSQL
// schema. The PostgreSQL half skips, or fails in CI, when no server is
// reachable.
func forEachDatabase(t *testing.T, test func(t *testing.T, db database)) {
	t.Run("SQLite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "meta.db")
		test(t, database{
			name: "SQLite",
			open: func(ctx context.Context, upTo int) (*Store, error) { return openSQLite(ctx, path, upTo) },
			raw:  rawExec,
		})
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		dsn := pgtest.NewSchemaDSN(t)
		test(t, database{
			name: "PostgreSQL",
			open: func(ctx context.Context, upTo int) (*Store, error) { return openPostgres(ctx, dsn, upTo) },
			raw:  rawExec,
		})
	})
}

// show renders a value for comparison: JSON shows what pointers point to
// and times in their zone.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

func mustOpen(t *testing.T, db database, upTo int) *Store {
	t.Helper()
	s, err := db.open(context.Background(), upTo)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func version(t *testing.T, s *Store) int {
	t.Helper()
	v, err := s.SchemaVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// latestVersion is the newest migration of a dialect.
func latestVersion(t *testing.T, d *dialect) int {
	t.Helper()
	all, err := migrations(d)
	if err != nil {
		t.Fatal(err)
	}
	return all[len(all)-1].version
}

func TestMigrationsAreNumberedAlikeInBothDialects(t *testing.T) {
	var got [2][]int
	for i, d := range []*dialect{&sqliteDialect, &postgresDialect} {
		all, err := migrations(d)
		if err != nil {
			t.Fatal(err)
		}
		for j, m := range all {
			// Versions increase without repeats. A gap is allowed: work
			// on separate branches reserves numbers, and the migrator
			// tracks each version applied, so a later arrival in a gap
			// is still applied to a database past it.
			if j > 0 && m.version <= all[j-1].version {
				t.Errorf("%s: migration %s does not follow %s", d.name, m.file, all[j-1].file)
			}
			if len(statements(m.body)) == 0 {
				t.Errorf("%s holds no statement", m.file)
			}
			got[i] = append(got[i], m.version)
		}
	}
	if fmt.Sprint(got[0]) != fmt.Sprint(got[1]) {
		t.Fatalf("SQLite has migrations %v, PostgreSQL %v; every schema change needs both", got[0], got[1])
	}
}

func TestUpgradeFromVersion1KeepsDataAndAddsForeignKeys(t *testing.T) {
	ctx := context.Background()
	forEachDatabase(t, func(t *testing.T, db database) {
		old := mustOpen(t, db, 1)
		if got := version(t, old); got != 1 {
			t.Fatalf("schema version: got %d, want 1", got)
		}
		// Data as the first release wrote it, through the same queries.
		w := newWorld(t, old)
		// Version 1 had no foreign keys: this read set names a store
		// that does not exist, and is accepted.
		stray := *w.readSet
		stray.ID, stray.StoreID = "stray", "no-such-store"
		if err := readSetCreateBefore3(ctx, old, &stray); err != nil {
			t.Fatalf("version 1 refused a read set in a missing store: %v", err)
		}
		old.ReadSetDelete(ctx, acct, "no-such-store", "stray")
		old.Close()

		s := mustOpen(t, db, latest)
		defer s.Close()
		if got, want := version(t, s), latestVersion(t, s.d); got != want {
			t.Fatalf("schema version after upgrade: got %d, want %d", got, want)
		}
		w.check(t, s)
		if err := s.ReadSetCreate(ctx, &stray); !errors.Is(err, meta.ErrNotFound) {
			t.Fatalf("read set in a missing store after upgrade: got %v, want ErrNotFound", err)
		}
	})
}

func TestFailedUpgradeLeavesTheOldSchema(t *testing.T) {
	ctx := context.Background()
	forEachDatabase(t, func(t *testing.T, db database) {
		old := mustOpen(t, db, 1)
		w := newWorld(t, old)
		// An orphan, which version 2's foreign keys refuse.
		orphan := *w.upload
		orphan.ID, orphan.StoreID = "orphan", "no-such-store"
		if err := old.UploadCreate(ctx, &orphan); err != nil {
			t.Fatal(err)
		}
		old.Close()

		_, err := db.open(ctx, latest)
		if err == nil || !strings.Contains(err.Error(), "0002") {
			t.Fatalf("upgrade over an orphan upload: got %v, want an error naming migration 0002", err)
		}
		again := mustOpen(t, db, 1)
		defer again.Close()
		if got := version(t, again); got != 1 {
			t.Fatalf("schema version after a failed upgrade: got %d, want 1", got)
		}
		w.check(t, again)
		if _, err := again.UploadGet(ctx, acct, "no-such-store", "orphan"); err != nil {
			t.Fatalf("the orphan after a failed upgrade: %v", err)
		}
	})
}

func TestReopenIsANoOp(t *testing.T) {
	ctx := context.Background()
	forEachDatabase(t, func(t *testing.T, db database) {
		s := mustOpen(t, db, latest)
		w := newWorld(t, s)
		var before int
		if err := s.read.queryRow(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&before); err != nil {
			t.Fatal(err)
		}
		s.Close()
		for range 2 {
			s := mustOpen(t, db, latest)
			var after int
			if err := s.read.queryRow(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&after); err != nil {
				t.Fatal(err)
			}
			if after != before {
				t.Fatalf("schema_migrations rows: %d before reopening, %d after", before, after)
			}
			w.check(t, s)
			s.Close()
		}
	})
}

func TestNewerSchemaIsRefused(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, db database) {
		s := mustOpen(t, db, latest)
		if err := s.CheckSchema(context.Background()); err != nil {
			t.Fatalf("CheckSchema right after migrating: %v", err)
		}
		// A newer seqstore migrates the database under a running node:
		// that node is no longer ready, and says why.
		db.raw(t, s, `INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)`)
		if err := s.CheckSchema(context.Background()); err == nil || !strings.Contains(err.Error(), "version 999") {
			t.Fatalf("CheckSchema of a database at version 999: got %v, want an error naming the version", err)
		}
		s.Close()
		_, err := db.open(context.Background(), latest)
		if err == nil || !strings.Contains(err.Error(), "newer") {
			t.Fatalf("opening a database at version 999: got %v, want an error saying it is newer", err)
		}
	})
}

// TestConcurrentOpensMigrateOnce starts several nodes at once on an empty
// database: each must open, and the migrations must run once.
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	ctx := context.Background()
	forEachDatabase(t, func(t *testing.T, db database) {
		const nodes = 4
		stores := make([]*Store, nodes)
		errs := make([]error, nodes)
		var wg sync.WaitGroup
		for i := range nodes {
			wg.Go(func() { stores[i], errs[i] = db.open(ctx, latest) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("node %d: %v", i, err)
			}
			defer stores[i].Close()
		}
		var rows int
		if err := stores[0].read.queryRow(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		all, err := migrations(stores[0].d)
		if err != nil {
			t.Fatal(err)
		}
		if want := len(all); rows != want {
			t.Fatalf("schema_migrations holds %d rows, want %d (one per migration)", rows, want)
		}
	})
}

const acct = "123456789012"

// world is a little of everything, written through the store, to check
// after reopening or upgrading.
type world struct {
	store    *seqstore.SequenceStore
	readSet  *seqstore.ReadSet
	upload   *seqstore.Upload
	part     *seqstore.UploadPart
	refStore *seqstore.ReferenceStore
	ref      *seqstore.Reference
}

func newWorld(t *testing.T, s *Store) *world {
	t.Helper()
	ctx := context.Background()
	when := time.UnixMilli(1_770_000_000_123).UTC()
	w := &world{
		store: &seqstore.SequenceStore{AccountID: acct, ID: "1000000001", Name: "s", Status: seqstore.StoreStatusActive,
			PropagatedSetLevelTags: []string{"p"}, CreatedAt: when, UpdatedAt: when},
		readSet: &seqstore.ReadSet{AccountID: acct, StoreID: "1000000001", ID: "2000000001", Name: "r", Status: seqstore.ReadSetStatusActive,
			ETag: &seqstore.ETag{Algorithm: "FASTQ_MD5up", Source1: "x"}, Files: []seqstore.StoredFile{{Kind: seqstore.FileSource1, Key: "k"}},
			Tags: map[string]string{"a": "b"}, CreatedAt: when, UpdatedAt: when},
		upload:   &seqstore.Upload{AccountID: acct, StoreID: "1000000001", ID: "3000000001", Status: seqstore.UploadStatusInProgress, CreatedAt: when},
		part:     &seqstore.UploadPart{UploadID: "3000000001", Source: seqstore.FileSource1, Number: 1, Size: 5, Checksum: "c", Key: "pk", CreatedAt: when, UpdatedAt: when},
		refStore: &seqstore.ReferenceStore{AccountID: acct, ID: "4000000001", Name: "rs", CreatedAt: when},
		ref: &seqstore.Reference{AccountID: acct, StoreID: "4000000001", ID: "5000000001", Name: "ref", Status: seqstore.ReferenceStatusActive,
			Files: []seqstore.StoredFile{{Kind: seqstore.FileSource, Key: "fa"}}, CreatedAt: when, UpdatedAt: when},
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.AccountPut(ctx, seqstore.Account{ID: acct, Name: "a", CreatedAt: when}))
	must(s.SequenceStoreCreate(ctx, w.store))
	if version(t, s) < 3 {
		must(readSetCreateBefore3(ctx, s, w.readSet))
	} else {
		must(s.ReadSetCreate(ctx, w.readSet))
	}
	must(s.UploadCreate(ctx, w.upload))
	_, err := s.UploadPartPut(ctx, w.part)
	must(err)
	must(s.ReferenceStoreCreate(ctx, w.refStore))
	if version(t, s) < 8 {
		must(referenceCreateBefore8(ctx, s, w.ref))
	} else {
		must(s.ReferenceCreate(ctx, w.ref))
	}
	return w
}

// referenceCreateBefore8 inserts a reference as versions before 8 did,
// without the sequences column.
func referenceCreateBefore8(ctx context.Context, s *Store, r *seqstore.Reference) error {
	cols := strings.Replace(referenceColumns, " sequences,", "", 1)
	_, err := s.write.exec(ctx, `INSERT INTO genome_references (`+cols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		r.ID, r.AccountID, r.StoreID, r.Name, r.Description, r.MD5, r.Status, r.CreationJobID, toJSON(r.Files), millis(r.CreatedAt), millis(r.UpdatedAt))
	return err
}

func (w *world) check(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	same := func(what string, got any, err error, want any) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if g, w := show(got), show(want); g != w {
			t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
		}
	}
	st, err := s.SequenceStoreGet(ctx, acct, w.store.ID)
	same("sequence store", st, err, w.store)
	rs, err := s.ReadSetGet(ctx, acct, w.store.ID, w.readSet.ID)
	if version(t, s) < 3 {
		rs, err = scanReadSet(s.read.queryRow(ctx, `SELECT `+readSetColumnsBefore3(t)+`, '' FROM read_sets WHERE id = $1`, w.readSet.ID))
	}
	same("read set", rs, err, w.readSet)
	u, err := s.UploadGet(ctx, acct, w.store.ID, w.upload.ID)
	same("upload", u, err, w.upload)
	parts, err := s.UploadPartsAll(ctx, w.upload.ID)
	same("parts", parts, err, []*seqstore.UploadPart{w.part})
	refStore, err := s.ReferenceStoreGet(ctx, acct, w.refStore.ID)
	same("reference store", refStore, err, w.refStore)
	ref, err := s.ReferenceGet(ctx, acct, w.refStore.ID, w.ref.ID)
	if version(t, s) < 8 {
		cols := strings.Replace(referenceColumns, " sequences,", " '[]',", 1)
		ref, err = scanReference(s.read.queryRow(ctx, `SELECT `+cols+` FROM genome_references WHERE id = $1`, w.ref.ID))
	}
	same("reference", ref, err, w.ref)
}

// readSetColumnsBefore3 is the read sets' column list before version 3
// added source_parts, the last column.
func readSetColumnsBefore3(t testing.TB) string {
	cols, ok := strings.CutSuffix(readSetColumns, ",\n\tsource_parts")
	if !ok {
		t.Fatalf("readSetColumns no longer ends with source_parts: %q", readSetColumns)
	}
	return cols
}

// readSetCreateBefore3 writes a read set into a schema older than version
// 3, as the code of the time did.
func readSetCreateBefore3(ctx context.Context, s *Store, r *seqstore.ReadSet) error {
	args := insertReadSetArgs(r)
	cols, _ := strings.CutSuffix(readSetColumns, ",\n\tsource_parts")
	_, err := s.write.exec(ctx, `INSERT INTO read_sets (`+cols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
		args[:21]...)
	return err
}
