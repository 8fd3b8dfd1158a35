// Package fileblob is the embedded blob.Store: each object is a file under a
// root directory, at the path its key names. Writes go to a temporary file on
// the same filesystem and are fsynced and renamed into place on Close, so an
// object is either wholly there and durable or not there at all.
//
// Temporary files live in the root's "#tmp" directory ('#' never appears in a
// key, so no key can reach it), in a subdirectory per open Store that the
// Store holds an advisory lock on. Open removes the subdirectories whose lock
// it can take: their Store is gone (crashed or closed without cleaning), so
// their files are leftovers. Several Stores may share one root, in one
// process or several.
//
// One failure breaks the rule that a failed Close stores nothing: when the
// rename succeeded but syncing its directory did not, the object is in place
// and Close says so in its error, because removing it again could remove a
// newer object written meanwhile.
//
// A filesystem cannot hold a file and a directory under one name, so unlike
// S3 a key cannot be both an object and a prefix of another key followed by a
// slash ("a" and "a/b"); such a write fails with a clear error.
package fileblob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/seqstore/seqstore/internal/blob"
)

const (
	// tempDirName holds every Store's temporary files. '#' is not a key
	// character, so no key can name it or anything inside it.
	tempDirName = "#tmp"
	// tempLockName is the file locked while a Store cleans and claims its
	// temporary subdirectory, so two Opens never judge each other dead.
	tempLockName = "#lock"
	// ownerLockName is the file a Store holds locked inside its temporary
	// subdirectory for as long as it is open.
	ownerLockName = "#owner"

	// bufferSize is a writer's buffer: large enough that a stream of small
	// writes costs one system call per MiB.
	bufferSize = 1 << 20

	dirPerm  = 0o750
	filePerm = 0o640
)

var bufferPool = sync.Pool{New: func() any { b := make([]byte, bufferSize); return &b }}

// Store is a blob.Store over a local directory.
type Store struct {
	root   string
	tmp    string   // this Store's own temporary subdirectory
	owner  *os.File // locked for the Store's life; see ownerLockName
	closed atomic.Bool
}

var _ blob.Store = (*Store)(nil)

// Open opens the store rooted at root, creating the directory if needed and
// removing temporary files that Stores no longer open left behind.
func Open(root string) (*Store, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("fileblob: %w", err)
	}
	tmpRoot := filepath.Join(root, tempDirName)
	if err := os.MkdirAll(tmpRoot, dirPerm); err != nil {
		return nil, fmt.Errorf("fileblob: create the store directory: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(tmpRoot, tempLockName), os.O_RDWR|os.O_CREATE, filePerm)
	if err != nil {
		return nil, fmt.Errorf("fileblob: %w", err)
	}
	defer lock.Close() // closing releases the lock
	if err := lockFile(lock, true); err != nil {
		return nil, fmt.Errorf("fileblob: lock %s: %w", lock.Name(), err)
	}
	if err := removeAbandoned(tmpRoot); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(tmpRoot, "s")
	if err != nil {
		return nil, fmt.Errorf("fileblob: %w", err)
	}
	owner, err := os.OpenFile(filepath.Join(tmp, ownerLockName), os.O_RDWR|os.O_CREATE, filePerm)
	if err == nil {
		err = lockFile(owner, true)
	}
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("fileblob: claim a temporary directory: %w", err)
	}
	return &Store{root: root, tmp: tmp, owner: owner}, nil
}

// removeAbandoned deletes the temporary subdirectories of Stores that are no
// longer open: those whose owner lock can be taken. The caller holds the
// cleaning lock, so no Store is between creating its directory and locking it.
func removeAbandoned(tmpRoot string) error {
	entries, err := os.ReadDir(tmpRoot)
	if err != nil {
		return fmt.Errorf("fileblob: %w", err)
	}
	for _, e := range entries {
		if e.Name() == tempLockName {
			continue
		}
		p := filepath.Join(tmpRoot, e.Name())
		if e.IsDir() {
			f, err := os.Open(filepath.Join(p, ownerLockName))
			if err == nil {
				held := lockFile(f, false) != nil
				f.Close()
				if held {
					continue
				}
			}
		}
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("fileblob: remove abandoned temporary files: %w", err)
		}
	}
	return nil
}

// Root is the directory the store keeps its objects in.
func (s *Store) Root() string { return s.root }

// Close releases the store's temporary directory. Writers still open fail.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	err := os.RemoveAll(s.tmp)
	return errors.Join(err, s.owner.Close())
}

func (s *Store) path(key string) string {
	return filepath.Join(s.root, filepath.FromSlash(key))
}

func (s *Store) check(key string) error {
	if s.closed.Load() {
		return fmt.Errorf("fileblob: %w", blob.ErrClosed)
	}
	if err := blob.ValidKey(key); err != nil {
		return fmt.Errorf("fileblob: %w", err)
	}
	return nil
}

// NewWriter starts writing key into a temporary file.
func (s *Store) NewWriter(ctx context.Context, key string) (blob.Writer, error) {
	if err := s.check(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fileblob: write %s: %w", key, err)
	}
	f, err := os.CreateTemp(s.tmp, "w")
	if err != nil {
		return nil, fmt.Errorf("fileblob: write %s: %w", key, err)
	}
	return &writer{s: s, ctx: ctx, key: key, f: f, buf: bufferPool.Get().(*[]byte)}, nil
}

// writer buffers into a pooled buffer and flushes it to the temporary file.
type writer struct {
	s   *Store
	ctx context.Context
	key string
	f   *os.File
	buf *[]byte
	n   int // bytes buffered in *buf
	// written is how many bytes the temporary file has, and kicked up
	// to where their writeback has been started.
	written, kicked int64
	err             error // the first write error; every later call returns it
	done            bool  // Close or Abort was called
}

func (w *writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, fmt.Errorf("fileblob: write %s: %w", w.key, blob.ErrClosed)
	}
	if w.err != nil {
		return 0, w.err
	}
	buf := *w.buf
	if w.n+len(p) <= len(buf) {
		w.n += copy(buf[w.n:], p)
		return len(p), nil
	}
	if err := w.flush(); err != nil {
		return 0, err
	}
	if len(p) >= len(buf) {
		// Larger than the buffer: copying it first would only cost time.
		if err := w.writeFile(p); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	w.n = copy(buf, p)
	return len(p), nil
}

// ReadFrom fills the writer's buffer straight from r. A file source is
// handed to the kernel instead (copy_file_range where the system has it).
func (w *writer) ReadFrom(r io.Reader) (int64, error) {
	if w.done {
		return 0, fmt.Errorf("fileblob: write %s: %w", w.key, blob.ErrClosed)
	}
	if w.err != nil {
		return 0, w.err
	}
	if isFile(r) {
		if err := w.flush(); err != nil {
			return 0, err
		}
		n, err := w.f.ReadFrom(r)
		if err != nil {
			w.err = fmt.Errorf("fileblob: write %s: %w", w.key, err)
			return n, w.err
		}
		return n, w.ctxErr()
	}
	buf := *w.buf
	var total int64
	for {
		if w.n == len(buf) {
			if err := w.flush(); err != nil {
				return total, err
			}
		}
		n, err := r.Read(buf[w.n:])
		w.n += n
		total += int64(n)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

func isFile(r io.Reader) bool {
	if lr, ok := r.(*io.LimitedReader); ok {
		r = lr.R
	}
	_, ok := r.(*os.File)
	return ok
}

func (w *writer) ctxErr() error {
	if err := w.ctx.Err(); err != nil {
		w.err = fmt.Errorf("fileblob: write %s: %w", w.key, err)
		return w.err
	}
	return nil
}

func (w *writer) flush() error {
	if w.n == 0 {
		return nil
	}
	err := w.writeFile((*w.buf)[:w.n])
	w.n = 0
	return err
}

func (w *writer) writeFile(p []byte) error {
	if err := w.ctxErr(); err != nil {
		return err
	}
	if _, err := w.f.Write(p); err != nil {
		w.err = fmt.Errorf("fileblob: write %s: %w", w.key, err)
		return w.err
	}
	w.written += int64(len(p))
	if w.written-w.kicked >= writebackStep {
		startWriteback(w.f, w.kicked, w.written-w.kicked)
		w.kicked = w.written
	}
	return nil
}

// writebackStep is how many bytes a writer lets gather before it starts
// their writeback: enough that the device gets long writes.
const writebackStep = 8 << 20

// Close makes the temporary file durable and renames it into place.
func (w *writer) Close() error {
	if w.done {
		return fmt.Errorf("fileblob: close %s: %w", w.key, blob.ErrClosed)
	}
	err := w.flush()
	if err == nil {
		err = w.ctxErr()
	}
	if err == nil && w.s.closed.Load() {
		err = fmt.Errorf("fileblob: close %s: %w", w.key, blob.ErrClosed)
	}
	if err == nil {
		err = w.commit()
	}
	if err != nil {
		w.discard()
		return err
	}
	w.release()
	return nil
}

func (w *writer) commit() error {
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("fileblob: write %s: %w", w.key, err)
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("fileblob: write %s: %w", w.key, err)
	}
	dst := w.s.path(w.key)
	dir := filepath.Dir(dst)
	// A concurrent Delete may prune a directory between its creation and
	// the rename (or the creation of its child); each retry recreates it.
	for attempt := 0; ; attempt++ {
		err := mkdirAllSynced(w.s.root, dir)
		if err == nil {
			err = os.Rename(w.f.Name(), dst)
		}
		if err == nil {
			break
		}
		if errors.Is(err, fs.ErrNotExist) && attempt < 100 {
			continue
		}
		return fmt.Errorf("fileblob: write %s: %w", w.key, explainConflict(w.key, err))
	}
	// The rename is durable only once the directory holding it is synced.
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("fileblob: write %s: the object is in place but its directory could not be synced, so it may not survive a crash: %w", w.key, err)
	}
	return nil
}

// explainConflict names the filesystem's one limit on keys: an object and a
// directory cannot share a name.
func explainConflict(key string, err error) error {
	if errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("a prefix of %q is already an object, and a file cannot also be a directory: %w", key, err)
	}
	if errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.EEXIST) || errors.Is(err, syscall.ENOTEMPTY) {
		return fmt.Errorf("other keys start with %q, and a directory cannot also be a file: %w", key+"/", err)
	}
	return err
}

// Abort discards the temporary file.
func (w *writer) Abort() error {
	if w.done {
		return nil
	}
	w.discard()
	return nil
}

func (w *writer) discard() {
	w.f.Close()
	os.Remove(w.f.Name())
	w.release()
}

func (w *writer) release() {
	w.done = true
	bufferPool.Put(w.buf)
	w.buf = nil
}

// mkdirAllSynced creates dir and its missing parents below root, syncing
// the parent of each one it creates so the new entries survive a crash.
func mkdirAllSynced(root, dir string) error {
	if st, err := os.Stat(dir); err == nil {
		if !st.IsDir() {
			return &fs.PathError{Op: "mkdir", Path: dir, Err: syscall.ENOTDIR}
		}
		return nil
	}
	if dir == root || len(dir) < len(root) {
		return os.MkdirAll(dir, dirPerm)
	}
	parent := filepath.Dir(dir)
	if err := mkdirAllSynced(root, parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, dirPerm); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}

// NewRangeReader opens key's file; the open descriptor keeps reading the
// same bytes even if the key is overwritten or deleted meanwhile.
func (s *Store) NewRangeReader(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := s.check(key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("fileblob: read %s: negative offset %d", key, offset)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fileblob: read %s: %w", key, err)
	}
	f, err := os.Open(s.path(key))
	if err != nil {
		return nil, fmt.Errorf("fileblob: read %s: %w", key, mapNotFound(err))
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = blob.ErrNotFound
	}
	if err == nil && offset > st.Size() {
		err = fmt.Errorf("%w: offset %d, size %d", blob.ErrOutOfRange, offset, st.Size())
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("fileblob: read %s: %w", key, err)
	}
	end := st.Size()
	if length >= 0 && length < end-offset {
		end = offset + length
	}
	readAhead(f, offset, end-offset)
	return &rangeReader{f: f, pos: offset, end: end}, nil
}

// mapNotFound turns the errors of a path that leads nowhere into
// blob.ErrNotFound: a missing file, or a file where a directory should be.
func mapNotFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("%w (%v)", blob.ErrNotFound, err)
	}
	return err
}

// rangeReader reads [pos, end) of f with positioned reads.
type rangeReader struct {
	f        *os.File
	pos, end int64
}

func (r *rangeReader) Read(p []byte) (int, error) {
	if r.pos >= r.end {
		return 0, io.EOF
	}
	if int64(len(p)) > r.end-r.pos {
		p = p[:r.end-r.pos]
	}
	n, err := r.f.ReadAt(p, r.pos)
	r.pos += int64(n)
	if err == io.EOF && r.pos < r.end {
		// The file cannot shrink under an open descriptor unless something
		// outside the store truncated it.
		err = io.ErrUnexpectedEOF
	}
	if err == io.EOF {
		err = nil
	}
	return n, err
}

// WriteTo lets a destination that can take a file directly (a TCP
// connection, through net/http's ResponseWriter) use sendfile or
// copy_file_range instead of copying through user space.
func (r *rangeReader) WriteTo(w io.Writer) (int64, error) {
	if rf, ok := w.(io.ReaderFrom); ok {
		if _, err := r.f.Seek(r.pos, io.SeekStart); err != nil {
			return 0, err
		}
		n, err := rf.ReadFrom(&io.LimitedReader{R: r.f, N: r.end - r.pos})
		r.pos += n
		if err == nil && r.pos < r.end {
			err = io.ErrUnexpectedEOF
		}
		return n, err
	}
	bp := bufferPool.Get().(*[]byte)
	defer bufferPool.Put(bp)
	var total int64
	for r.pos < r.end {
		n, err := r.Read(*bp)
		if n > 0 {
			m, werr := w.Write((*bp)[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (r *rangeReader) Close() error { return r.f.Close() }

// Stat returns the size and modification time of key's file.
func (s *Store) Stat(ctx context.Context, key string) (blob.Attributes, error) {
	if err := s.check(key); err != nil {
		return blob.Attributes{}, err
	}
	st, err := os.Stat(s.path(key))
	if err == nil && !st.Mode().IsRegular() {
		err = blob.ErrNotFound
	}
	if err != nil {
		return blob.Attributes{}, fmt.Errorf("fileblob: stat %s: %w", key, mapNotFound(err))
	}
	return blob.Attributes{Size: st.Size(), ModTime: st.ModTime()}, nil
}

// Delete removes key's file and then every directory it leaves empty.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.check(key); err != nil {
		return err
	}
	p := s.path(key)
	st, err := os.Lstat(p)
	switch {
	case err != nil && errors.Is(mapNotFound(err), blob.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("fileblob: delete %s: %w", key, err)
	case st.IsDir():
		return nil // a directory is a prefix, not an object
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("fileblob: delete %s: %w", key, err)
	}
	// Removing a non-empty directory fails, which ends the pruning; a writer
	// racing with it recreates the directory (see commit).
	for dir := filepath.Dir(p); dir != s.root && strings.HasPrefix(dir, s.root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break
		}
	}
	return nil
}

// List walks the directories under prefix. Entries are visited in the order
// of their keys, which is not plain name order: a directory "a" holds keys
// "a/...", which sort after a file "a-b" because '-' < '/'.
func (s *Store) List(ctx context.Context, prefix string, fn func(key string, attrs blob.Attributes) error) error {
	if s.closed.Load() {
		return fmt.Errorf("fileblob: %w", blob.ErrClosed)
	}
	if err := blob.ValidPrefix(prefix); err != nil {
		return fmt.Errorf("fileblob: %w", err)
	}
	cut := strings.LastIndexByte(prefix, '/') + 1
	return s.walk(ctx, prefix[:cut], prefix[cut:], fn)
}

// walk lists the keys in directory dirKey (empty or ending in a slash) whose
// next segment starts with namePrefix.
func (s *Store) walk(ctx context.Context, dirKey, namePrefix string, fn func(string, blob.Attributes) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fileblob: list: %w", err)
	}
	entries, err := os.ReadDir(s.path(dirKey))
	if err != nil {
		if errors.Is(mapNotFound(err), blob.ErrNotFound) {
			return nil // no such prefix, or pruned while we walked
		}
		return fmt.Errorf("fileblob: list %s: %w", dirKey, err)
	}
	type child struct {
		sortKey string // the name, with a slash after directories
		entry   fs.DirEntry
	}
	children := make([]child, 0, len(entries))
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, namePrefix) || blob.ValidKey(name) != nil {
			continue // includes the temporary directory
		}
		if e.IsDir() {
			name += "/"
		} else if !e.Type().IsRegular() {
			continue
		}
		children = append(children, child{name, e})
	}
	slices.SortFunc(children, func(a, b child) int { return strings.Compare(a.sortKey, b.sortKey) })
	for _, c := range children {
		key := dirKey + c.sortKey
		if c.entry.IsDir() {
			if err := s.walk(ctx, key, "", fn); err != nil {
				return err
			}
			continue
		}
		info, err := c.entry.Info()
		if err != nil {
			continue // deleted since the directory was read
		}
		if err := fn(key, blob.Attributes{Size: info.Size(), ModTime: info.ModTime()}); err != nil {
			return err
		}
	}
	return nil
}
