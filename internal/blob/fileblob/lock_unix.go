//go:build unix

package fileblob

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on f, waiting for it when wait is
// set. The lock lasts until f is closed or its process ends, which is what
// lets Open tell a live Store's temporary files from abandoned ones.
func lockFile(f *os.File, wait bool) error {
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}
