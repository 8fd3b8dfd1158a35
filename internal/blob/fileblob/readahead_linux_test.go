//go:build linux

package fileblob

import (
	"context"
	"os"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/seqstore/seqstore/internal/blob/blobtest"
)

// residentPages counts the pages of path that are in the page cache.
func residentPages(t *testing.T, path string, size int) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	vec := make([]byte, (size+os.Getpagesize()-1)/os.Getpagesize())
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(size), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}

func TestOpeningARangeDoesNotReadItAllAhead(t *testing.T) {
	// Asking the kernel for a whole 100 MiB part when it is opened made
	// cold downloads slower than leaving the reading to sendfile's own
	// sequential read-ahead; opening must not pull the range in by itself.
	s := openStore(t, t.TempDir())
	defer s.Close()
	const size = 16 << 20
	blobtest.Put(t, s, "cold", blobtest.Content(2, size))
	path := s.path("cold")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
	f.Close()
	if n := residentPages(t, path, size); n > 0 {
		t.Skipf("this file system keeps %d pages of the file cached after FADV_DONTNEED", n)
	}
	r, err := s.NewRangeReader(context.Background(), "cold", 0, size)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Reads asked for at open would have landed by now.
	time.Sleep(200 * time.Millisecond)
	if n := residentPages(t, path, size); n > 0 {
		t.Errorf("%d of %d pages were read before anything read the range", n, size/os.Getpagesize())
	}
}
