//go:build !linux

package fileblob

import "os"

// startWriteback has no counterpart here: the fsync on Close writes the
// whole file.
func startWriteback(f *os.File, offset, length int64) {}
