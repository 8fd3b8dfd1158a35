// Package leak checks that code stops the goroutines it starts: that none
// is left running once it returns, and that none goes on reading its input
// or writing its output after that.
package leak

import (
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Check records the goroutines running now; call the function it returns
// when the code under test has returned, and it fails t if more goroutines
// run then than before. Goroutines that are ending are given a moment to
// end, but nothing more: a goroutine that waits for input no one will send
// is a leak.
func Check(t testing.TB) func() {
	t.Helper()
	before := runtime.NumGoroutine()
	return func() {
		t.Helper()
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("%d goroutines run after the call, %d before:\n%s", runtime.NumGoroutine(), before, relevant(string(buf)))
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// relevant keeps the stacks of goroutines that run seqstore code.
func relevant(stacks string) string {
	var keep []string
	for g := range strings.SplitSeq(stacks, "\n\n") {
		if strings.Contains(g, "seqstore/internal") && !strings.Contains(g, "leak.Check") {
			keep = append(keep, g)
		}
	}
	return strings.Join(keep, "\n\n")
}

// Guard wraps a reader and a writer that must not be used once Seal is
// called: after the function given them returned, a use means a goroutine
// it started outlived it.
type Guard struct {
	sealed atomic.Bool
	late   atomic.Int64
}

// Reader returns r, counting reads after Seal.
func (g *Guard) Reader(r io.Reader) io.Reader { return guardedReader{g, r} }

// Writer returns w, counting writes after Seal.
func (g *Guard) Writer(w io.Writer) io.Writer { return guardedWriter{g, w} }

// Seal marks the point after which no use is allowed.
func (g *Guard) Seal() { g.sealed.Store(true) }

// Late reports how many reads and writes came after Seal.
func (g *Guard) Late() int64 { return g.late.Load() }

// Verify waits a moment for stragglers and fails t if any read or write
// came after Seal.
func (g *Guard) Verify(t testing.TB) {
	t.Helper()
	time.Sleep(20 * time.Millisecond)
	if n := g.Late(); n > 0 {
		t.Errorf("%d reads or writes after the call returned", n)
	}
}

type guardedReader struct {
	g *Guard
	r io.Reader
}

func (r guardedReader) Read(p []byte) (int, error) {
	if r.g.sealed.Load() {
		r.g.late.Add(1)
	}
	return r.r.Read(p)
}

type guardedWriter struct {
	g *Guard
	w io.Writer
}

func (w guardedWriter) Write(p []byte) (int, error) {
	if w.g.sealed.Load() {
		w.g.late.Add(1)
	}
	return w.w.Write(p)
}

// Slow returns r handing out at most 4 KiB at a time with a pause before
// each piece, like a source streamed from an object store: a reader's
// read-ahead goroutine is then likely inside a Read of it when the code
// under test stops.
func Slow(r io.Reader) io.Reader { return slowReader{r} }

type slowReader struct{ r io.Reader }

func (s slowReader) Read(p []byte) (int, error) {
	time.Sleep(200 * time.Microsecond)
	return s.r.Read(p[:min(len(p), 4096)])
}
