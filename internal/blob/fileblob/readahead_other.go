//go:build !linux

package fileblob

import "os"

// readAhead is advice this system does not take the same way; reads still
// work, with the kernel's default read-ahead.
func readAhead(f *os.File, offset, length int64) {}
