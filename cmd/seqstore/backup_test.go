package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// The embedded database is backed up while a server runs and writes to it;
// a restore under a running server is refused, and once the server stops
// it puts the backup back, and the server starts on it. A database that a
// newer seqstore migrated is refused at start with a message that says so.
func TestAdminBackupAndRestore(t *testing.T) {
	bin := buildBinary(t)
	data := t.TempDir()
	backup := filepath.Join(t.TempDir(), "seqstore.db")
	srv := serve(t, bin, data, freeAddr(t))

	mustRun(t, bin, "admin", "account", "create", "-data", data, "-name", "before")
	out := mustRun(t, bin, "admin", "backup", "-data", data, "-to", backup)
	if !strings.Contains(out, "backed up") {
		t.Errorf("admin backup printed %q", out)
	}
	mustRun(t, bin, "admin", "account", "create", "-data", data, "-name", "after")
	if _, errOut, ok := run(t, bin, nil, "admin", "restore", "-data", data, "-from", backup); ok || !strings.Contains(errOut, "in use") {
		t.Fatalf("admin restore under a running server: ok=%v\n%s\nwant a refusal saying the database is in use", ok, errOut)
	}
	srv.stop(t)

	out = mustRun(t, bin, "admin", "restore", "-data", data, "-from", backup)
	if !strings.Contains(out, "before-restore") {
		t.Errorf("admin restore did not say where the replaced database is kept:\n%s", out)
	}
	list := mustRun(t, bin, "admin", "account", "list", "-data", data)
	if !strings.Contains(list, "before") || strings.Contains(list, "after") {
		t.Errorf("accounts after the restore:\n%s\nwant the one made before the backup and not the one after", list)
	}
	addr := freeAddr(t)
	serve(t, bin, data, addr).stop(t)

	// A newer seqstore moved the schema on: this one refuses to start.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, errOut, ok := run(t, bin, nil, "serve", "-data", data, "-addr", addr)
	if ok || !strings.Contains(errOut, "version 999, newer than this seqstore knows") {
		t.Errorf("serve on a database at schema version 999: ok=%v\n%s\nwant a refusal naming the version", ok, errOut)
	}
}
