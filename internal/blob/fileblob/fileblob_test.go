package fileblob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/seqstore/seqstore/internal/blob"
	"github.com/seqstore/seqstore/internal/blob/blobtest"
)

func openStore(t testing.TB, root string) *Store {
	t.Helper()
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return openStore(t, t.TempDir()) })
}

// entries lists every file and directory under root, relative to it.
func entries(t *testing.T, root string) []string {
	t.Helper()
	var got []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root {
			rel, _ := filepath.Rel(root, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestObjectsAreFilesAtTheirKeyPaths(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	blobtest.Put(t, s, "a/b/c.bam", []byte("bam"))
	got, err := os.ReadFile(filepath.Join(root, "a", "b", "c.bam"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "bam" {
		t.Errorf("file holds %q, want %q", got, "bam")
	}
}

func TestAbortAndCancelLeaveNoTemporaryFiles(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	w, err := s.NewWriter(context.Background(), "x/aborted")
	if err != nil {
		t.Fatal(err)
	}
	w.Write(make([]byte, 3<<20))
	w.Abort()
	ctx, cancel := context.WithCancel(context.Background())
	w, err = s.NewWriter(ctx, "x/cancelled")
	if err != nil {
		t.Fatal(err)
	}
	w.Write(make([]byte, 3<<20))
	cancel()
	if err := w.Close(); !errors.Is(err, context.Canceled) {
		t.Errorf("Close error = %v, want context.Canceled", err)
	}
	for _, e := range entries(t, root) {
		if strings.HasPrefix(e, tempDirName+"/") && !strings.HasSuffix(e, ownerLockName) && strings.Count(e, "/") > 1 {
			t.Errorf("temporary file left behind: %s", e)
		}
		if strings.HasPrefix(e, "x") {
			t.Errorf("object path left behind: %s", e)
		}
	}
}

func TestOpenRemovesTemporaryFilesOfClosedStoresOnly(t *testing.T) {
	root := t.TempDir()
	crashed := openStore(t, root)
	w, err := crashed.NewWriter(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("never committed"))
	stray := w.(*writer).f.Name()
	// A crash releases the lock without cleaning up; closing the lock file
	// alone does the same.
	crashed.owner.Close()

	live := openStore(t, root)
	defer live.Close()
	liveWriter, err := live.NewWriter(context.Background(), "k2")
	if err != nil {
		t.Fatal(err)
	}
	liveWriter.Write([]byte("in progress"))

	third := openStore(t, root)
	defer third.Close()
	if _, err := os.Stat(stray); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the crashed store's temporary file is still there (stat error %v)", err)
	}
	if err := liveWriter.Close(); err != nil {
		t.Fatalf("the live store's writer failed after another Open: %v", err)
	}
	if got := blobtest.Get(t, third, "k2"); string(got) != "in progress" {
		t.Errorf("read %q, want %q", got, "in progress")
	}
}

func TestDeletePrunesEmptyDirectories(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	ctx := context.Background()
	blobtest.Put(t, s, "p/q/r/one", []byte("1"))
	blobtest.Put(t, s, "p/two", []byte("2"))
	if err := s.Delete(ctx, "p/q/r/one"); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{"p/q/r", "p/q"} {
		if _, err := os.Stat(filepath.Join(root, gone)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists after its last object was deleted", gone)
		}
	}
	if err := s.Delete(ctx, "p/two"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "p")); !errors.Is(err, os.ErrNotExist) {
		t.Error("p still exists after its last object was deleted")
	}
	if _, err := os.Stat(root); err != nil {
		t.Errorf("the root itself was removed: %v", err)
	}
}

func TestWritesSurviveDeletesPruningTheirDirectories(t *testing.T) {
	// Deletes remove empty directories that a concurrent write may have
	// just created for its object; the write must recreate them.
	s := openStore(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			key := fmt.Sprintf("shared/deep/%d/object", g)
			for range 200 {
				w, err := s.NewWriter(ctx, key)
				if err == nil {
					w.Write([]byte(key))
					err = w.Close()
				}
				if err == nil {
					err = s.Delete(ctx, key)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestKeysThatAreBothObjectAndPrefixFailClearly(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	blobtest.Put(t, s, "obj", []byte("o"))
	blobtest.Put(t, s, "dir/child", []byte("c"))
	for _, key := range []string{"obj/child", "dir"} {
		w, err := s.NewWriter(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("x"))
		err = w.Close()
		if err == nil || !strings.Contains(err.Error(), "cannot also be") {
			t.Errorf("writing %q: error = %v, want one explaining the file/directory clash", key, err)
		}
	}
}

func TestReadersTakeTheKernelPathIntoAReaderFrom(t *testing.T) {
	// A TCP connection implements ReaderFrom with sendfile; the reader's
	// WriteTo must hand it the file and still send exactly the range.
	s := openStore(t, t.TempDir())
	defer s.Close()
	data := blobtest.Content(1, 3<<20)
	blobtest.Put(t, s, "send", data)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	received := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			received <- nil
			return
		}
		b, _ := io.ReadAll(c)
		c.Close()
		received <- b
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.NewRangeReader(context.Background(), "send", 12345, 2<<20)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(conn, r)
	r.Close()
	conn.Close()
	if err != nil || n != 2<<20 {
		t.Fatalf("copied %d bytes, error %v; want %d", n, err, 2<<20)
	}
	got := <-received
	if want := data[12345 : 12345+2<<20]; string(got) != string(want) {
		t.Errorf("received %d bytes that differ from the range", len(got))
	}
}

func TestWriterReadFromAFileCopiesIt(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	src := filepath.Join(t.TempDir(), "src")
	data := blobtest.Content(2, 2<<20+5)
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := s.NewWriter(context.Background(), "copied")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("head"))
	if _, err := io.Copy(w, f); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := blobtest.Get(t, s, "copied"), append([]byte("head"), data...); string(got) != string(want) {
		t.Errorf("got %d bytes, want %d matching", len(got), len(want))
	}
}

func TestClosedStoreRefusesWork(t *testing.T) {
	s := openStore(t, t.TempDir())
	w, err := s.NewWriter(context.Background(), "late")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("x"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); !errors.Is(err, blob.ErrClosed) {
		t.Errorf("writer Close after store Close: %v, want ErrClosed", err)
	}
	if _, err := s.Stat(context.Background(), "late"); !errors.Is(err, blob.ErrClosed) {
		t.Errorf("Stat after Close: %v, want ErrClosed", err)
	}
}

func BenchmarkFileblob(b *testing.B) {
	s := openStore(b, b.TempDir())
	defer s.Close()
	blobtest.Bench(b, s)
}
