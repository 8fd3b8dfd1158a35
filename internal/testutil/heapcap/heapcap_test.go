package heapcap

import (
	"runtime"
	"testing"

	"github.com/seqstore/seqstore/internal/testutil/leak"
)

// A function that ends its goroutine, as a t.Fatal inside Check does, still
// stops the sampling goroutine.
func TestPeakStopsSamplingOnGoexit(t *testing.T) {
	done := leak.Check(t)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		Peak(Ceiling, runtime.Goexit)
	}()
	<-ended
	done()
}

// PeakOfRepeatable measures again only when the first run went over the
// ceiling, and reports what the second run held.
func TestPeakOfRepeatable(t *testing.T) {
	const ceiling = 8 << 20
	var keep [][]byte
	hold := func(n int) {
		b := make([]byte, n)
		for i := range b {
			b[i] = 1
		}
		keep = append(keep, b)
		runtime.GC()
	}
	for _, tc := range []struct {
		name      string
		sizes     []int // what each run holds, in turn
		runs      int
		overLimit bool
	}{
		{"under at once", []int{1 << 20}, 1, false},
		{"over once, then under", []int{32 << 20, 1 << 20}, 2, false},
		{"over both times", []int{32 << 20, 32 << 20}, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs := 0
			peak := PeakOfRepeatable(ceiling, func() {
				hold(tc.sizes[runs])
				runs++
				keep = nil
			})
			if runs != tc.runs || (peak > ceiling) != tc.overLimit {
				t.Errorf("%d runs, peak %d MiB; want %d runs, over the %d MiB ceiling %v", runs, peak>>20, tc.runs, ceiling>>20, tc.overLimit)
			}
		})
	}
}
