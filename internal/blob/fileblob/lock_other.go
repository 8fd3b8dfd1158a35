//go:build !unix

package fileblob

import (
	"errors"
	"os"
)

// lockFile has no advisory locks to use here. Reporting every lock as held
// keeps Open from deleting a live Store's temporary files, at the price of
// never cleaning up after a crash.
func lockFile(f *os.File, wait bool) error {
	if wait {
		return nil
	}
	return errors.New("fileblob: file locks are not supported on this system")
}
