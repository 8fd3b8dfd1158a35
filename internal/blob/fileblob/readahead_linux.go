//go:build linux

package fileblob

import (
	"os"

	"golang.org/x/sys/unix"
)

// readAhead asks the kernel to start reading [offset, offset+length) of f
// from the device now, in the background, and to read ahead aggressively.
// A part is about to be sent whole, so a cold file's disk reads then overlap
// with sending what has already arrived instead of stalling each sendfile
// call on its own reads. It is only advice: errors are ignored.
func readAhead(f *os.File, offset, length int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		unix.Fadvise(int(fd), offset, length, unix.FADV_SEQUENTIAL)
		unix.Fadvise(int(fd), offset, length, unix.FADV_WILLNEED)
	})
}
