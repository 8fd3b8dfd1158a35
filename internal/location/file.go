package location

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	seqstore "github.com/seqstore/seqstore"
)

// fileRoot is a directory file:// URIs may reach, with its symbolic links
// resolved.
type fileRoot struct {
	dir      string
	accounts []string
}

func newFileRoot(r FileRoot) (fileRoot, error) {
	if !filepath.IsAbs(r.Dir) {
		return fileRoot{}, fmt.Errorf("location: file root %q must be an absolute path", r.Dir)
	}
	dir, err := filepath.EvalSymlinks(r.Dir)
	if err != nil {
		return fileRoot{}, fmt.Errorf("location: file root %q: %w", r.Dir, err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fileRoot{}, fmt.Errorf("location: file root %q: %w", r.Dir, err)
	}
	if !st.IsDir() {
		return fileRoot{}, fmt.Errorf("location: file root %q is not a directory", r.Dir)
	}
	return fileRoot{dir: dir, accounts: r.Accounts}, nil
}

// filePlace is a path inside a root: rel is relative to the root's
// directory, every symbolic link of its existing part resolved.
type filePlace struct {
	dir string
	rel string
}

// fileAccess finds a root that holds t's path, once resolved, and admits
// the account.
func (l *Locations) fileAccess(accountID string, t target) (filePlace, error) {
	if len(l.roots) == 0 {
		return filePlace{}, seqstore.Errorf(seqstore.CodeAccessDenied, "%s: this server reads and writes no local files; its operator allows directories with -file-root", quoteURI(t.uri))
	}
	resolved := resolveExisting(t.path)
	inside := false
	for _, r := range l.roots {
		rel, ok := within(r.dir, resolved)
		if !ok {
			continue
		}
		inside = true
		if admits(r.accounts, accountID) {
			return filePlace{dir: r.dir, rel: rel}, nil
		}
	}
	if inside {
		return filePlace{}, seqstore.Errorf(seqstore.CodeAccessDenied, "%s: account %s may not use this directory", quoteURI(t.uri), accountID)
	}
	for _, r := range l.roots {
		if _, ok := within(r.dir, filepath.Clean(t.path)); ok {
			return filePlace{}, seqstore.Errorf(seqstore.CodeAccessDenied, "%s leads outside the directories this server may use through a symbolic link", quoteURI(t.uri))
		}
	}
	return filePlace{}, seqstore.Errorf(seqstore.CodeAccessDenied, "%s is outside the directories this server may use (its operator allows them with -file-root)", quoteURI(t.uri))
}

// resolveExisting resolves the symbolic links of path's longest existing
// beginning and puts the rest after it, so that a file not written yet is
// judged by the directory it would land in.
func resolveExisting(path string) string {
	rest := ""
	for {
		if r, err := filepath.EvalSymlinks(path); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(path)
		if parent == path {
			return filepath.Join(path, rest)
		}
		rest = filepath.Join(filepath.Base(path), rest)
		path = parent
	}
}

// within returns path relative to dir when path is dir or lies below it.
func within(dir, path string) (string, bool) {
	rel, err := filepath.Rel(dir, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") || filepath.IsAbs(rel) {
		return "", false
	}
	return rel, true
}

// fileError names the URI in a file system error and gives it its code.
func fileError(uri, doing string, err error) error {
	code := seqstore.CodeInternal
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &seqstore.Error{Code: seqstore.CodeNotFound, Message: quoteURI(uri) + " does not exist", Err: err}
	case errors.Is(err, fs.ErrPermission):
		code = seqstore.CodeAccessDenied
	}
	return &seqstore.Error{Code: code, Message: fmt.Sprintf("%s: %s: %v", quoteURI(uri), doing, unwrapPath(err)), Err: err}
}

// unwrapPath drops the path an os error repeats, the URI already naming it.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// open opens the file for reading, confined to its root.
func (f filePlace) open(uri string) (io.ReadCloser, error) {
	root, err := os.OpenRoot(f.dir)
	if err != nil {
		return nil, fileError(uri, "open its directory", err)
	}
	defer root.Close()
	st, err := root.Stat(f.rel)
	if err != nil {
		return nil, fileError(uri, "read", err)
	}
	if !st.Mode().IsRegular() {
		return nil, seqstore.Errorf(seqstore.CodeValidation, "%s is not a regular file", quoteURI(uri))
	}
	file, err := root.Open(f.rel)
	if err != nil {
		return nil, fileError(uri, "read", err)
	}
	return file, nil
}

// create starts writing the file under a temporary name in its directory,
// making the directories it lacks inside the root.
func (f filePlace) create(ctx context.Context, uri string) (Writer, error) {
	if f.rel == "." {
		return nil, seqstore.Errorf(seqstore.CodeValidation, "%s names a directory, not a file", quoteURI(uri))
	}
	root, err := os.OpenRoot(f.dir)
	if err != nil {
		return nil, fileError(uri, "open its directory", err)
	}
	dir := filepath.Dir(f.rel)
	if err := root.MkdirAll(dir, 0o755); err != nil {
		root.Close()
		return nil, fileError(uri, "create its directory", err)
	}
	// The root kept the new directories inside it; check again all the same
	// that no link swapped in since the access check leads elsewhere.
	if _, ok := within(f.dir, resolveExisting(filepath.Join(f.dir, dir))); !ok {
		root.Close()
		return nil, seqstore.Errorf(seqstore.CodeAccessDenied, "%s leads outside the directories this server may use through a symbolic link", quoteURI(uri))
	}
	sweepPartials(root, dir, time.Now().Add(-StalePartialAge))
	tmp := filepath.Join(dir, partialPrefix+randomHex(8)+partialSuffix)
	file, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		root.Close()
		return nil, fileError(uri, "create", err)
	}
	return &fileWriter{ctx: ctx, uri: uri, root: root, file: file, tmp: tmp, final: f.rel}, nil
}

// The temporary name of a file being written: hidden, and told apart from
// anything a user would name a file.
const (
	partialPrefix = ".seqstore-"
	partialSuffix = ".partial"
)

// StalePartialAge is how long a temporary file goes unmodified before a
// write into its directory removes it as the leftover of a crashed process.
// A live writer touches its file with every write, and a job item whose
// node died is taken over within a minute or so (-job-lease), so an hour
// without a write means nobody will finish it.
const StalePartialAge = time.Hour

// sweepPartials removes, from dir under root, the temporary files that
// were last written before staleBefore. It is best effort: a directory it
// cannot read, or a file already gone, is passed over.
func sweepPartials(root *os.Root, dir string, staleBefore time.Time) {
	d, err := root.Open(dir)
	if err != nil {
		return
	}
	defer d.Close()
	for {
		entries, err := d.ReadDir(256)
		for _, e := range entries {
			name := e.Name()
			if !e.Type().IsRegular() || !strings.HasPrefix(name, partialPrefix) || !strings.HasSuffix(name, partialSuffix) {
				continue
			}
			if info, err := e.Info(); err == nil && info.ModTime().Before(staleBefore) {
				root.Remove(filepath.Join(dir, name))
			}
		}
		if err != nil {
			return
		}
	}
}

// fileWriter writes a file under a temporary name and renames it into
// place on Commit.
type fileWriter struct {
	ctx   context.Context
	uri   string
	root  *os.Root
	file  *os.File
	tmp   string
	final string
	done  bool
}

func (w *fileWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, errClosed
	}
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := w.file.Write(p)
	if err != nil {
		return n, fileError(w.uri, "write", err)
	}
	return n, nil
}

func (w *fileWriter) Commit() error {
	if w.done {
		return errClosed
	}
	if err := w.commit(); err != nil {
		w.Abort()
		return err
	}
	w.done = true
	w.root.Close()
	return nil
}

// commit makes the bytes durable, then the name: a crash leaves either no
// file or the whole one.
func (w *fileWriter) commit() error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if err := w.file.Sync(); err != nil {
		return fileError(w.uri, "write", err)
	}
	if err := w.file.Close(); err != nil {
		return fileError(w.uri, "write", err)
	}
	if st, err := w.root.Lstat(w.final); err == nil && st.IsDir() {
		return seqstore.Errorf(seqstore.CodeConflict, "%s is a directory; choose another name", quoteURI(w.uri))
	}
	if err := w.root.Rename(w.tmp, w.final); err != nil {
		return fileError(w.uri, "rename into place", err)
	}
	if d, err := w.root.Open(filepath.Dir(w.final)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func (w *fileWriter) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.file.Close()
	w.root.Remove(w.tmp)
	w.root.Close()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
