// Package blobtest is the conformance suite for blob.Store drivers: Run
// checks every promise of the blob package's contract against a real store,
// and Bench measures a driver's write and range-read throughput the same way
// for every driver.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seqstore/seqstore/internal/blob"
)

// LargeSize is the largest object the suite writes: larger than two S3
// multipart parts of the 5 MiB minimum (drivers under test should use that
// part size so that multipart uploads are exercised) and than many fileblob
// buffers, and not a multiple of either.
const LargeSize = 11<<20 + 3

// Run runs the conformance suite. newStore must return an empty store that no
// other test shares; Run closes it.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	open := func(t *testing.T) blob.Store {
		t.Helper()
		s := newStore(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	}
	t.Run("objects read back as written", func(t *testing.T) { testRoundTrip(t, open(t)) })
	t.Run("range reads return the requested bytes", func(t *testing.T) { testRanges(t, open(t)) })
	t.Run("missing keys are reported as ErrNotFound", func(t *testing.T) { testNotFound(t, open(t)) })
	t.Run("an overwrite replaces the whole object", func(t *testing.T) { testOverwrite(t, open(t)) })
	t.Run("an aborted write leaves nothing behind", func(t *testing.T) { testAbort(t, open(t)) })
	t.Run("a write whose context is cancelled leaves nothing behind", func(t *testing.T) { testCancel(t, open(t)) })
	t.Run("a writer refuses to be used after Close", func(t *testing.T) { testWriterAfterClose(t, open(t)) })
	t.Run("concurrent writers to different keys all succeed", func(t *testing.T) { testConcurrentWriters(t, open(t)) })
	t.Run("a reader sees the old or the new object, never a mix", func(t *testing.T) { testReadDuringOverwrite(t, open(t)) })
	t.Run("Stat reports size and modification time", func(t *testing.T) { testStat(t, open(t)) })
	t.Run("Delete removes objects and ignores missing ones", func(t *testing.T) { testDelete(t, open(t)) })
	t.Run("List visits keys under a prefix in lexical order", func(t *testing.T) { testList(t, open(t)) })
	t.Run("keys that could escape the store are rejected", func(t *testing.T) { testBadKeys(t, open(t)) })
}

// Content returns n deterministic pseudo-random bytes; different seeds give
// different bytes, so a mix of two objects can be told from either.
func Content(seed uint64, n int) []byte {
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24), 0xb1})
	b := make([]byte, n)
	r.Read(b)
	return b
}

// Put writes data under key with a single Write and fails the test on error.
func Put(t testing.TB, s blob.Store, key string, data []byte) {
	t.Helper()
	w, err := s.NewWriter(context.Background(), key)
	if err != nil {
		t.Fatalf("NewWriter(%q): %v", key, err)
	}
	if _, err := w.Write(data); err != nil {
		w.Abort()
		t.Fatalf("Write(%q): %v", key, err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close(%q): %v", key, err)
	}
}

// Get reads a whole object and fails the test on error.
func Get(t testing.TB, s blob.Store, key string) []byte {
	t.Helper()
	got, err := ReadRange(s, key, 0, -1)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return got
}

// ReadRange reads a range of an object into memory.
func ReadRange(s blob.Store, key string, offset, length int64) ([]byte, error) {
	r, err := s.NewRangeReader(context.Background(), key, offset, length)
	if err != nil {
		return nil, err
	}
	got, err := io.ReadAll(r)
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	return got, err
}

// sameBytes reports a difference between two byte slices without printing
// megabytes of them.
func sameBytes(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	t.Errorf("%s: got %d bytes, want %d; first difference at byte %d", what, len(got), len(want), i)
}

func requireNotFound(t testing.TB, s blob.Store, key string) {
	t.Helper()
	if _, err := s.Stat(context.Background(), key); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat(%q) error = %v, want ErrNotFound", key, err)
	}
	var keys []string
	err := s.List(context.Background(), key, func(k string, _ blob.Attributes) error {
		keys = append(keys, k)
		return nil
	})
	if err != nil {
		t.Errorf("List(%q): %v", key, err)
	}
	if slices.Contains(keys, key) {
		t.Errorf("List(%q) still shows %q", key, key)
	}
}

// chunkReader hides any WriterTo of the source and returns at most size
// bytes per Read, like a network body does.
type chunkReader struct {
	r    io.Reader
	size int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(p) > c.size {
		p = p[:c.size]
	}
	return c.r.Read(p)
}

func testRoundTrip(t *testing.T, s blob.Store) {
	ways := []struct {
		name  string
		write func(w blob.Writer, data []byte) error
	}{
		{"one Write", func(w blob.Writer, data []byte) error {
			_, err := w.Write(data)
			return err
		}},
		{"many small Writes", func(w blob.Writer, data []byte) error {
			for len(data) > 0 {
				n := min(len(data), 4093)
				if _, err := w.Write(data[:n]); err != nil {
					return err
				}
				data = data[n:]
			}
			return nil
		}},
		{"ReadFrom a chunked stream", func(w blob.Writer, data []byte) error {
			n, err := w.ReadFrom(&chunkReader{bytes.NewReader(data), 65521})
			if err == nil && n != int64(len(data)) {
				err = fmt.Errorf("ReadFrom returned %d, want %d", n, len(data))
			}
			return err
		}},
		{"Write then ReadFrom", func(w blob.Writer, data []byte) error {
			half := len(data) / 2
			if _, err := w.Write(data[:half]); err != nil {
				return err
			}
			_, err := w.ReadFrom(bytes.NewReader(data[half:]))
			return err
		}},
	}
	sizes := []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"1 byte", 1},
		{"100 KiB", 100 << 10},
		{"over 11 MiB", LargeSize},
	}
	seed := uint64(1)
	for _, size := range sizes {
		for _, way := range ways {
			if size.size == LargeSize && way.name == "many small Writes" {
				continue // the same code path as 100 KiB, only slower
			}
			seed++
			t.Run(size.name+" with "+way.name, func(t *testing.T) {
				key := fmt.Sprintf("round/trip-%d.bin", seed)
				want := Content(seed, size.size)
				w, err := s.NewWriter(context.Background(), key)
				if err != nil {
					t.Fatal(err)
				}
				if err := way.write(w, want); err != nil {
					w.Abort()
					t.Fatal(err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				sameBytes(t, "read back", Get(t, s, key), want)
				attrs, err := s.Stat(context.Background(), key)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := attrs.Size, int64(size.size); got != want {
					t.Errorf("Stat size = %d, want %d", got, want)
				}
			})
		}
	}
}

func testRanges(t *testing.T, s blob.Store) {
	const size = 10000
	small := Content(10, size)
	large := Content(11, LargeSize)
	Put(t, s, "ranges/small", small)
	Put(t, s, "ranges/large", large)
	Put(t, s, "ranges/empty", nil)
	objects := map[string][]byte{"ranges/small": small, "ranges/large": large, "ranges/empty": {}}
	tests := []struct {
		name           string
		key            string
		offset, length int64
		wantErr        error // nil: the read succeeds
		anyErr         bool  // an error that wraps no particular sentinel
	}{
		{name: "the whole object from offset 0", key: "ranges/small", offset: 0, length: -1},
		{name: "the first 10 bytes", key: "ranges/small", offset: 0, length: 10},
		{name: "a middle range", key: "ranges/small", offset: 1234, length: 4321},
		{name: "the last byte", key: "ranges/small", offset: size - 1, length: 1},
		{name: "the tail to the end", key: "ranges/small", offset: size - 100, length: -1},
		{name: "a length past the end, cut at the end", key: "ranges/small", offset: size - 100, length: 1000},
		{name: "a huge length, cut at the end", key: "ranges/small", offset: 1, length: 1 << 62},
		{name: "zero bytes from the middle", key: "ranges/small", offset: 500, length: 0},
		{name: "zero bytes from offset 0", key: "ranges/small", offset: 0, length: 0},
		{name: "nothing from the end to the end", key: "ranges/small", offset: size, length: -1},
		{name: "nothing from the end with a length", key: "ranges/small", offset: size, length: 5},
		{name: "zero bytes at the end", key: "ranges/small", offset: size, length: 0},
		{name: "an offset past the end", key: "ranges/small", offset: size + 1, length: -1, wantErr: blob.ErrOutOfRange},
		{name: "zero bytes past the end", key: "ranges/small", offset: size + 1, length: 0, wantErr: blob.ErrOutOfRange},
		{name: "a negative offset", key: "ranges/small", offset: -1, length: 10, anyErr: true},
		{name: "a range across part boundaries", key: "ranges/large", offset: 5<<20 - 7, length: 5<<20 + 14},
		{name: "the tail of a multipart object", key: "ranges/large", offset: LargeSize - 3, length: -1},
		{name: "all of an empty object", key: "ranges/empty", offset: 0, length: -1},
		{name: "zero bytes of an empty object", key: "ranges/empty", offset: 0, length: 0},
		{name: "offset 1 of an empty object", key: "ranges/empty", offset: 1, length: -1, wantErr: blob.ErrOutOfRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadRange(s, tt.key, tt.offset, tt.length)
			switch {
			case tt.anyErr:
				if err == nil || errors.Is(err, blob.ErrNotFound) {
					t.Fatalf("error = %v, want an error other than ErrNotFound", err)
				}
				return
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			data := objects[tt.key]
			end := int64(len(data))
			if tt.length >= 0 && tt.length < end-tt.offset {
				end = tt.offset + tt.length
			}
			sameBytes(t, "range", got, data[tt.offset:end])
		})
	}
}

func testNotFound(t *testing.T, s blob.Store) {
	ctx := context.Background()
	Put(t, s, "present/object", []byte("here"))
	for _, key := range []string{"absent", "present/absent", "absent/object", "present"} {
		t.Run(key, func(t *testing.T) {
			if _, err := s.Stat(ctx, key); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("Stat error = %v, want ErrNotFound", err)
			}
			for _, length := range []int64{-1, 0, 10} {
				r, err := s.NewRangeReader(ctx, key, 0, length)
				if err == nil {
					r.Close()
				}
				if !errors.Is(err, blob.ErrNotFound) {
					t.Errorf("NewRangeReader(length %d) error = %v, want ErrNotFound", length, err)
				}
			}
		})
	}
	// A key below an object is missing too, even though a filesystem sees a
	// file where a directory should be.
	if _, err := s.Stat(ctx, "present/object/below"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat below an object: error = %v, want ErrNotFound", err)
	}
}

func testOverwrite(t *testing.T, s blob.Store) {
	tests := []struct {
		name        string
		first, then int
	}{
		{"a large object by a small one", LargeSize, 10},
		{"a small object by a large one", 10, LargeSize},
		{"an object by an empty one", 1000, 0},
		{"an empty object by a small one", 0, 1000},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := fmt.Sprintf("overwrite/%d", i)
			Put(t, s, key, Content(20, tt.first))
			want := Content(21, tt.then)
			Put(t, s, key, want)
			sameBytes(t, "after overwrite", Get(t, s, key), want)
			attrs, err := s.Stat(context.Background(), key)
			if err != nil {
				t.Fatal(err)
			}
			if attrs.Size != int64(tt.then) {
				t.Errorf("Stat size = %d, want %d", attrs.Size, tt.then)
			}
		})
	}
}

func testAbort(t *testing.T, s blob.Store) {
	ctx := context.Background()
	for _, size := range []int{0, 1000, LargeSize} {
		t.Run(fmt.Sprintf("%d bytes of a new key", size), func(t *testing.T) {
			key := fmt.Sprintf("abort/new-%d", size)
			w, err := s.NewWriter(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(Content(30, size)); err != nil {
				t.Fatal(err)
			}
			if err := w.Abort(); err != nil {
				t.Errorf("Abort: %v", err)
			}
			requireNotFound(t, s, key)
			if err := w.Close(); err == nil {
				t.Error("Close after Abort succeeded")
			}
		})
	}
	t.Run("an overwrite keeps the old object", func(t *testing.T) {
		old := Content(31, 5000)
		Put(t, s, "abort/old", old)
		w, err := s.NewWriter(ctx, "abort/old")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(Content(32, LargeSize)); err != nil {
			t.Fatal(err)
		}
		if err := w.Abort(); err != nil {
			t.Errorf("Abort: %v", err)
		}
		sameBytes(t, "after aborted overwrite", Get(t, s, "abort/old"), old)
	})
}

func testCancel(t *testing.T, s blob.Store) {
	for _, size := range []int{1000, LargeSize} {
		t.Run(fmt.Sprintf("cancelled after %d bytes", size), func(t *testing.T) {
			key := fmt.Sprintf("cancel/after-%d", size)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w, err := s.NewWriter(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(Content(40, size)); err != nil {
				t.Fatal(err)
			}
			cancel()
			// The write may notice the cancellation now or at Close.
			w.Write(Content(41, 1000))
			if err := w.Close(); err == nil {
				t.Fatal("Close succeeded after the context was cancelled")
			}
			requireNotFound(t, s, key)
		})
	}
	t.Run("cancelled before the writer was made", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		w, err := s.NewWriter(ctx, "cancel/before")
		if err == nil {
			w.Write([]byte("data"))
			if err := w.Close(); err == nil {
				t.Fatal("Close succeeded with a context cancelled from the start")
			}
		}
		requireNotFound(t, s, "cancel/before")
	})
	t.Run("a cancelled overwrite keeps the old object", func(t *testing.T) {
		old := Content(42, 3000)
		Put(t, s, "cancel/old", old)
		ctx, cancel := context.WithCancel(context.Background())
		w, err := s.NewWriter(ctx, "cancel/old")
		if err != nil {
			t.Fatal(err)
		}
		w.Write(Content(43, 2000))
		cancel()
		if err := w.Close(); err == nil {
			t.Fatal("Close succeeded after the context was cancelled")
		}
		sameBytes(t, "after cancelled overwrite", Get(t, s, "cancel/old"), old)
	})
}

func testWriterAfterClose(t *testing.T, s blob.Store) {
	w, err := s.NewWriter(context.Background(), "closed/object")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("abc"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("more")); err == nil {
		t.Error("Write after Close succeeded")
	}
	if _, err := w.ReadFrom(strings.NewReader("more")); err == nil {
		t.Error("ReadFrom after Close succeeded")
	}
	if err := w.Close(); err == nil {
		t.Error("a second Close succeeded")
	}
	if err := w.Abort(); err != nil {
		t.Errorf("Abort after Close: %v, want nil", err)
	}
	sameBytes(t, "after Abort following Close", Get(t, s, "closed/object"), []byte("abc"))
}

func testConcurrentWriters(t *testing.T, s blob.Store) {
	const writers = 8
	const size = 300 << 10
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			w, err := s.NewWriter(context.Background(), fmt.Sprintf("concurrent/%d", i))
			if err != nil {
				errs[i] = err
				return
			}
			data := Content(uint64(50+i), size)
			for len(data) > 0 {
				n := min(len(data), 10000)
				if _, err := w.Write(data[:n]); err != nil {
					w.Abort()
					errs[i] = err
					return
				}
				data = data[n:]
			}
			errs[i] = w.Close()
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
		sameBytes(t, fmt.Sprintf("object %d", i), Get(t, s, fmt.Sprintf("concurrent/%d", i)), Content(uint64(50+i), size))
	}
}

func testReadDuringOverwrite(t *testing.T, s blob.Store) {
	const size = 1 << 20
	const versions = 6
	ctx := context.Background()
	content := make([][]byte, versions)
	for i := range content {
		content[i] = Content(uint64(60+i), size)
	}
	Put(t, s, "race/object", content[0])

	t.Run("a reader opened before the overwrite", func(t *testing.T) {
		r, err := s.NewRangeReader(ctx, "race/object", 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		first := make([]byte, size/2)
		if _, err := io.ReadFull(r, first); err != nil {
			t.Fatal(err)
		}
		Put(t, s, "race/object", content[1])
		rest, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		got := append(first, rest...)
		if !bytes.Equal(got, content[0]) && !bytes.Equal(got, content[1]) {
			t.Errorf("read %d bytes matching neither version", len(got))
		}
	})

	t.Run("readers racing a stream of overwrites", func(t *testing.T) {
		done := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		var problems []string
		for range 3 {
			wg.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
					}
					got, err := ReadRange(s, "race/object", 0, -1)
					version := slices.IndexFunc(content, func(c []byte) bool { return bytes.Equal(c, got) })
					if err != nil || version < 0 {
						mu.Lock()
						problems = append(problems, fmt.Sprintf("read %d bytes matching no version, error %v", len(got), err))
						mu.Unlock()
					}
				}
			})
		}
		for i := 2; i < versions; i++ {
			Put(t, s, "race/object", content[i])
			time.Sleep(5 * time.Millisecond)
		}
		close(done)
		wg.Wait()
		for _, p := range problems {
			t.Error(p)
		}
	})
}

func testStat(t *testing.T, s blob.Store) {
	ctx := context.Background()
	// Object stores keep whole seconds; allow for that and a little skew.
	before := time.Now().Add(-2 * time.Second)
	Put(t, s, "stat/object", Content(70, 4321))
	after := time.Now().Add(2 * time.Second)
	attrs, err := s.Stat(ctx, "stat/object")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := attrs.Size, int64(4321); got != want {
		t.Errorf("Size = %d, want %d", got, want)
	}
	if attrs.ModTime.Before(before) || attrs.ModTime.After(after) {
		t.Errorf("ModTime = %v, want between %v and %v", attrs.ModTime, before, after)
	}
}

func testDelete(t *testing.T, s blob.Store) {
	ctx := context.Background()
	Put(t, s, "delete/a/b/c", []byte("c"))
	Put(t, s, "delete/a/x", []byte("x"))
	if err := s.Delete(ctx, "delete/a/b/c"); err != nil {
		t.Fatal(err)
	}
	requireNotFound(t, s, "delete/a/b/c")
	if err := s.Delete(ctx, "delete/a/b/c"); err != nil {
		t.Errorf("deleting it again: %v, want nil", err)
	}
	if err := s.Delete(ctx, "delete/never/existed"); err != nil {
		t.Errorf("deleting a key that never existed: %v, want nil", err)
	}
	if err := s.Delete(ctx, "delete/a"); err != nil {
		t.Errorf("deleting a prefix that is not an object: %v, want nil", err)
	}
	sameBytes(t, "sibling after delete", Get(t, s, "delete/a/x"), []byte("x"))
	// The key's former parent can now hold an object of its own.
	Put(t, s, "delete/a/b", []byte("b"))
	sameBytes(t, "object where a prefix was", Get(t, s, "delete/a/b"), []byte("b"))
}

func testList(t *testing.T, s blob.Store) {
	ctx := context.Background()
	// '+', ',', '-' and '.' sort before '/', so a name order that ignores
	// the slash after a directory gets these wrong.
	keys := []string{
		"list/a-b", "list/a/b", "list/a/c/d", "list/a.b", "list/a0", "list/a+", "list/a,z",
		"list/b", "list2/z", "lista", "listZ/q",
	}
	sizes := map[string]int64{}
	for i, k := range keys {
		data := Content(uint64(80+i), i*7)
		Put(t, s, k, data)
		sizes[k] = int64(len(data))
	}
	tests := []struct {
		name   string
		prefix string
	}{
		{"everything", ""},
		{"a directory-like prefix", "list/"},
		{"a prefix ending inside a name", "list/a"},
		{"a prefix ending at a slash below", "list/a/"},
		{"a prefix that is also an object key", "list/a0"},
		{"a prefix without a slash", "list"},
		{"a prefix matching nothing", "nothing/"},
		{"a partial name matching nothing", "list/zz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []string
			for _, k := range keys {
				if strings.HasPrefix(k, tt.prefix) {
					want = append(want, k)
				}
			}
			slices.Sort(want)
			var got []string
			err := s.List(ctx, tt.prefix, func(key string, attrs blob.Attributes) error {
				got = append(got, key)
				if attrs.Size != sizes[key] {
					t.Errorf("size of %q = %d, want %d", key, attrs.Size, sizes[key])
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("List(%q) =\n  %q\nwant\n  %q", tt.prefix, got, want)
			}
		})
	}
	t.Run("an error from the callback stops the listing", func(t *testing.T) {
		stop := errors.New("stop")
		calls := 0
		err := s.List(ctx, "", func(string, blob.Attributes) error {
			calls++
			return stop
		})
		if !errors.Is(err, stop) || calls != 1 {
			t.Errorf("got error %v after %d calls, want %v after 1", err, calls, stop)
		}
	})
}

func testBadKeys(t *testing.T, s blob.Store) {
	ctx := context.Background()
	bad := []string{
		"", "/abs", "../x", "a/../b", "a/..", "a//b", "a/", "./a", "a/./b", `a\b`, `..\x`,
		"a b", "a?b", "a%2Fb", "caf\u00e9", "nul\x00", strings.Repeat("k", blob.MaxKeyLength+1),
	}
	for _, key := range bad {
		t.Run(fmt.Sprintf("%q", key), func(t *testing.T) {
			if w, err := s.NewWriter(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
				if err == nil {
					w.Abort()
				}
				t.Errorf("NewWriter error = %v, want ErrInvalidKey", err)
			}
			if r, err := s.NewRangeReader(ctx, key, 0, -1); !errors.Is(err, blob.ErrInvalidKey) {
				if err == nil {
					r.Close()
				}
				t.Errorf("NewRangeReader error = %v, want ErrInvalidKey", err)
			}
			if _, err := s.Stat(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("Stat error = %v, want ErrInvalidKey", err)
			}
			if err := s.Delete(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("Delete error = %v, want ErrInvalidKey", err)
			}
		})
	}
	for _, prefix := range []string{"../", "/", "a//", `a\`} {
		t.Run(fmt.Sprintf("List %q", prefix), func(t *testing.T) {
			err := s.List(ctx, prefix, func(string, blob.Attributes) error { return nil })
			if !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("List error = %v, want ErrInvalidKey", err)
			}
		})
	}
}
