package location

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	seqstore "github.com/seqstore/seqstore"
)

const (
	accountA = "123456789012"
	accountB = "210987654321"
)

// fileTree lays out a root (reached through a symbolic link, as operators
// often configure them), a directory outside it, links from the root to
// inside and outside, and a second root scoped to account B.
type fileTree struct {
	root, rootLink, outside, scoped string
	locations                       *Locations
}

func newFileTree(t *testing.T) fileTree {
	t.Helper()
	tmp := t.TempDir()
	ft := fileTree{
		root:     filepath.Join(tmp, "root"),
		rootLink: filepath.Join(tmp, "root-link"),
		outside:  filepath.Join(tmp, "outside"),
		scoped:   filepath.Join(tmp, "scoped"),
	}
	for _, d := range []string{ft.root, filepath.Join(ft.root, "sub"), ft.outside, ft.scoped} {
		must(t, os.Mkdir(d, 0o755))
	}
	must(t, os.WriteFile(filepath.Join(ft.root, "in.txt"), []byte("inside"), 0o644))
	must(t, os.WriteFile(filepath.Join(ft.outside, "secret"), []byte("secret"), 0o644))
	must(t, os.WriteFile(filepath.Join(ft.scoped, "b.txt"), []byte("for B"), 0o644))
	must(t, os.Symlink(ft.root, ft.rootLink))
	must(t, os.Symlink(ft.outside, filepath.Join(ft.root, "out")))
	must(t, os.Symlink(filepath.Join(ft.outside, "secret"), filepath.Join(ft.root, "secret-link")))
	must(t, os.Symlink(filepath.Join(ft.root, "in.txt"), filepath.Join(ft.root, "sub", "in-link")))
	l, err := New(context.Background(), Config{FileRoots: []FileRoot{
		{Dir: ft.rootLink},
		{Dir: ft.scoped, Accounts: []string{accountB}},
	}})
	must(t, err)
	ft.locations = l
	return ft
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func fileURI(path string) string { return "file://" + path }

// wantCode fails the test unless err carries code and, for errors, a
// message naming the URI.
func wantCode(t *testing.T, what string, err error, code seqstore.ErrorCode, uri string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return
	}
	if err == nil {
		t.Fatalf("%s succeeded; want %s", what, code)
	}
	if got := seqstore.CodeOf(err); got != code {
		t.Fatalf("%s: %v; want %s", what, err, code)
	}
	if !strings.Contains(err.Error(), uri) {
		t.Fatalf("%s: %q does not name %s", what, err, uri)
	}
}

func TestFileAccess(t *testing.T) {
	ft := newFileTree(t)
	denied := seqstore.CodeAccessDenied
	cases := []struct {
		name    string
		path    string
		account string
		read    seqstore.ErrorCode // CheckRead's code; "" for allowed
		write   seqstore.ErrorCode // CheckWrite's
	}{
		{name: "a file inside", path: ft.root + "/in.txt"},
		{name: "a file through the symbolic link of the root itself", path: ft.rootLink + "/in.txt"},
		{name: "dot-dot that stays inside", path: ft.root + "/sub/../in.txt"},
		{name: "a link that stays inside", path: ft.root + "/sub/in-link"},
		{name: "a file not written yet", path: ft.root + "/sub/new/deeper/out.bam"},
		{name: "dot-dot out of the root", path: ft.root + "/../outside/secret", read: denied, write: denied},
		{name: "dot-dot out through the linked root", path: ft.rootLink + "/../outside/secret", read: denied, write: denied},
		{name: "an absolute path outside", path: ft.outside + "/secret", read: denied, write: denied},
		{name: "a directory link out of the root", path: ft.root + "/out/secret", read: denied, write: denied},
		{name: "a new file under a link out of the root", path: ft.root + "/out/new/file", read: denied, write: denied},
		{name: "a file link out of the root", path: ft.root + "/secret-link", read: denied, write: denied},
		{name: "the root's parent", path: filepath.Dir(ft.root), read: denied, write: denied},
		{name: "a root scoped to another account", path: ft.scoped + "/b.txt", read: denied, write: denied},
		{name: "a root scoped to this account", path: ft.scoped + "/b.txt", account: accountB},
		{name: "an unscoped root admits every account", path: ft.root + "/in.txt", account: accountB},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			account := c.account
			if account == "" {
				account = accountA
			}
			ctx := context.Background()
			uri := fileURI(c.path)
			wantCode(t, "CheckRead", ft.locations.CheckRead(ctx, account, uri), c.read, uri)
			wantCode(t, "CheckWrite", ft.locations.CheckWrite(ctx, account, uri), c.write, uri)
			if c.read == "" {
				return
			}
			// What the check refuses, Open and Create refuse too, before a
			// byte moves.
			_, err := ft.locations.Open(ctx, account, uri)
			wantCode(t, "Open", err, c.read, uri)
			_, err = ft.locations.Create(ctx, account, uri)
			wantCode(t, "Create", err, c.write, uri)
		})
	}
}

func TestNoFileRootsReachNoFiles(t *testing.T) {
	l, err := New(context.Background(), Config{})
	must(t, err)
	uri := "file:///etc/hostname"
	err = l.CheckRead(context.Background(), accountA, uri)
	wantCode(t, "CheckRead", err, seqstore.CodeAccessDenied, uri)
	if !strings.Contains(err.Error(), "-file-root") {
		t.Errorf("%v does not say how to allow a directory", err)
	}
}

func TestNewRefusesBadFileRoots(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	must(t, os.WriteFile(file, nil, 0o644))
	for _, dir := range []string{"relative/dir", file, filepath.Join(t.TempDir(), "missing")} {
		if _, err := New(context.Background(), Config{FileRoots: []FileRoot{{Dir: dir}}}); err == nil {
			t.Errorf("New accepted the file root %q", dir)
		}
	}
}

func TestFileOpen(t *testing.T) {
	ft := newFileTree(t)
	ctx := context.Background()
	if got := readBack(t, ft.locations, fileURI(ft.rootLink+"/sub/in-link")); string(got) != "inside" {
		t.Errorf("read %q, want %q", got, "inside")
	}

	missing := fileURI(ft.root + "/sub/missing.fq")
	must(t, ft.locations.CheckRead(ctx, accountA, missing)) // found missing only when read
	_, err := ft.locations.Open(ctx, accountA, missing)
	wantCode(t, "Open of a missing file", err, seqstore.CodeNotFound, missing)

	dir := fileURI(ft.root + "/sub")
	_, err = ft.locations.Open(ctx, accountA, dir)
	wantCode(t, "Open of a directory", err, seqstore.CodeValidation, dir)
}

// names lists a directory.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	must(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestFileWriteAppearsWholeOnCommit(t *testing.T) {
	ft := newFileTree(t)
	ctx := context.Background()
	dir := filepath.Join(ft.root, "exports", "run 1")
	uri := fileURI(filepath.Join(ft.rootLink, "exports", "run 1", "ü.bam"))

	w, err := ft.locations.Create(ctx, accountA, uri)
	must(t, err)
	_, err = io.WriteString(w, "first half, ")
	must(t, err)
	if got := names(t, dir); len(got) != 1 || got[0] == "ü.bam" {
		t.Fatalf("while writing the directory holds %q; want one temporary file", got)
	}
	_, err = io.WriteString(w, "second half")
	must(t, err)
	must(t, w.Commit())
	w.Abort() // after Commit it does nothing
	if got := names(t, dir); !slices.Equal(got, []string{"ü.bam"}) {
		t.Fatalf("after Commit the directory holds %q", got)
	}
	data, err := os.ReadFile(filepath.Join(dir, "ü.bam"))
	must(t, err)
	if string(data) != "first half, second half" {
		t.Errorf("the file holds %q", data)
	}
	if _, err := w.Write([]byte("more")); err == nil {
		t.Error("Write after Commit succeeded")
	}
}

// A crashed writer's temporary file goes with the next write into its
// directory once stale; a fresh one, maybe another writer's, stays.
func TestFileWriteSweepsStalePartials(t *testing.T) {
	ft := newFileTree(t)
	ctx := context.Background()
	dir := filepath.Join(ft.root, "exports")
	must(t, os.MkdirAll(dir, 0o755))
	stale := filepath.Join(dir, ".seqstore-0123456789abcdef.partial")
	fresh := filepath.Join(dir, ".seqstore-fedcba9876543210.partial")
	usersOwn := filepath.Join(dir, "old.partial")
	for _, p := range []string{stale, fresh, usersOwn} {
		must(t, os.WriteFile(p, []byte("leftover"), 0o644))
	}
	old := time.Now().Add(-StalePartialAge - time.Minute)
	must(t, os.Chtimes(stale, old, old))
	must(t, os.Chtimes(usersOwn, old, old))

	w, err := ft.locations.Create(ctx, accountA, fileURI(filepath.Join(dir, "new.bam")))
	must(t, err)
	_, err = io.WriteString(w, "data")
	must(t, err)
	must(t, w.Commit())
	want := []string{".seqstore-fedcba9876543210.partial", "new.bam", "old.partial"}
	if got := names(t, dir); !slices.Equal(got, want) {
		t.Errorf("after a write the directory holds %q, want %q", got, want)
	}
}

func TestFileWritesRefuseDirectories(t *testing.T) {
	ft := newFileTree(t)
	ctx := context.Background()
	root := fileURI(ft.root)
	_, err := ft.locations.Create(ctx, accountA, root)
	wantCode(t, "Create of the root itself", err, seqstore.CodeValidation, root)

	dir := fileURI(ft.root + "/sub")
	w, err := ft.locations.Create(ctx, accountA, dir)
	must(t, err)
	_, err = io.WriteString(w, "data")
	must(t, err)
	wantCode(t, "Commit over a directory", w.Commit(), seqstore.CodeConflict, dir)
	if got := names(t, ft.root); !slices.Equal(got, []string{"in.txt", "out", "secret-link", "sub"}) {
		t.Errorf("after the refused Commit the root holds %q", got)
	}
}

func TestFileAbortLeavesNothing(t *testing.T) {
	ft := newFileTree(t)
	ctx := context.Background()
	uri := fileURI(ft.root + "/sub/aborted.bam")
	w, err := ft.locations.Create(ctx, accountA, uri)
	must(t, err)
	_, err = io.WriteString(w, "partial")
	must(t, err)
	w.Abort()
	if got := names(t, filepath.Join(ft.root, "sub")); !slices.Equal(got, []string{"in-link"}) {
		t.Fatalf("after Abort the directory holds %q", got)
	}

	// A cancelled context fails the write and Commit, and leaves nothing.
	cctx, cancel := context.WithCancel(ctx)
	w, err = ft.locations.Create(cctx, accountA, uri)
	must(t, err)
	cancel()
	if _, err := io.WriteString(w, "x"); err == nil {
		t.Error("Write after cancel succeeded")
	}
	if err := w.Commit(); err == nil {
		t.Error("Commit after cancel succeeded")
	}
	if got := names(t, filepath.Join(ft.root, "sub")); !slices.Equal(got, []string{"in-link"}) {
		t.Fatalf("after a cancelled write the directory holds %q", got)
	}
}
