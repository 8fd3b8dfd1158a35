package cpus

import (
	"runtime"
	"testing"
)

func TestAddHeadroom(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	t.Cleanup(func() {
		runtime.GOMAXPROCS(before)
		compute.Store(0)
	})
	for _, tc := range []struct {
		extra     int
		wantProcs int
	}{
		{extra: 0, wantProcs: before},
		{extra: -1, wantProcs: before},
		{extra: 3, wantProcs: before + 3},
	} {
		c, p := AddHeadroom(tc.extra)
		if c != before || p != tc.wantProcs {
			t.Errorf("AddHeadroom(%d) = %d, %d; want %d, %d", tc.extra, c, p, before, tc.wantProcs)
		}
		if got := runtime.GOMAXPROCS(0); got != tc.wantProcs {
			t.Errorf("after AddHeadroom(%d): GOMAXPROCS %d, want %d", tc.extra, got, tc.wantProcs)
		}
		if got := Compute(); got != before {
			t.Errorf("after AddHeadroom(%d): Compute() = %d, want %d, the Ps before the headroom", tc.extra, got, before)
		}
		runtime.GOMAXPROCS(before)
	}
}
