//go:build linux

package fileblob

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing [offset, offset+length)
// of f to the device now, without waiting for it. A writer kicks off each
// stretch as it goes, so that the fsync that makes the whole file durable
// on Close finds most of it written already, instead of flushing all of
// it while the caller waits. It is only a head start: errors are ignored
// here, and the fsync reports any.
func startWriteback(f *os.File, offset, length int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		unix.SyncFileRange(int(fd), offset, length, unix.SYNC_FILE_RANGE_WRITE)
	})
}
