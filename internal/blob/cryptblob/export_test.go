package cryptblob

import (
	"io"
	"testing"
	"time"
)

// OpensAhead reports whether a reader NewRangeReader returned opens chunks
// ahead on goroutines of its own.
func OpensAhead(r io.ReadCloser) bool {
	cr, ok := r.(*reader)
	return ok && cr.ahead != nil
}

// DecideAheadAfter makes long reads decide whether to open ahead after d
// instead, until the test ends.
func DecideAheadAfter(t testing.TB, d time.Duration) {
	was := decideAheadAfter
	decideAheadAfter = d
	t.Cleanup(func() { decideAheadAfter = was })
}
