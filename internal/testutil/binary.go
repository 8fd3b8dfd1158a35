package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Binary builds a Go command once per test binary: linking one takes
// seconds, and a package's tests may run it many times. Call Cleanup from
// TestMain after m.Run to remove what was built.
type Binary struct {
	// Package is the command's import path or directory, as go build
	// takes it.
	Package string

	once sync.Once
	dir  string
	path string
	err  error
}

// Path builds the command on first use and returns its path.
func (b *Binary) Path(t testing.TB) string {
	t.Helper()
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "seqstore-test-bin-"); b.err != nil {
			return
		}
		abs, err := filepath.Abs(b.Package)
		if err != nil {
			b.err = err
			return
		}
		path := filepath.Join(b.dir, filepath.Base(abs))
		if out, err := exec.Command("go", "build", "-o", path, b.Package).CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", b.Package, err, out)
			return
		}
		b.path = path
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// Cleanup removes the built command, if any.
func (b *Binary) Cleanup() {
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}
