package throttle

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name      string
		scale     float64
		operation string
		at        []time.Duration // when requests arrive, from start
		want      []bool
	}{
		{"one a second: the second at once is refused", 1, "CreateSequenceStore",
			[]time.Duration{0, 0, time.Second}, []bool{true, false, true}},
		{"a second's worth at once, then the rate", 1, "GetReadSet",
			append(repeat(time.Duration(0), 30), 0, time.Second/30), append(repeat(true, 30), false, true)},
		{"operations not listed get the default", 1, "ListReadSets",
			append(repeat(time.Duration(0), 5), 0), append(repeat(true, 5), false)},
		{"scaled", 2, "CreateSequenceStore",
			[]time.Duration{0, 0, 0, time.Second / 2}, []bool{true, true, false, true}},
		{"a fraction of a request a second still lets one through", 0.5, "CreateSequenceStore",
			[]time.Duration{0, time.Second, 2 * time.Second}, []bool{true, false, true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, err := NewAWS(c.scale)
			if err != nil {
				t.Fatal(err)
			}
			var throttled []string
			l.Throttled = func(op string) { throttled = append(throttled, op) }
			refused := 0
			for i, at := range c.at {
				if got := l.Allow("111111111111", c.operation, start.Add(at)); got != c.want[i] {
					t.Fatalf("request %d at +%v: allowed %v, want %v", i, at, got, c.want[i])
				}
				if !c.want[i] {
					refused++
				}
			}
			if len(throttled) != refused {
				t.Errorf("Throttled was told %d times, want %d", len(throttled), refused)
			}
			// Another account has its own bucket.
			if !l.Allow("222222222222", c.operation, start) {
				t.Error("another account's first request was refused")
			}
		})
	}
}

func repeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestBadScale(t *testing.T) {
	for _, s := range []float64{0, -1} {
		if _, err := NewAWS(s); err == nil {
			t.Errorf("NewAWS(%v) succeeded", s)
		}
	}
}
