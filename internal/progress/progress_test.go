package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/seqstore/seqstore/internal/transfer"
)

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB",
		100 << 20: "100.0 MiB", 3 << 40: "3.0 TiB", -2048: "-2.0 KiB",
	} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 1400 * time.Millisecond: "1s", 185 * time.Second: "3m05s", 3720 * time.Second: "1h02m",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

// clock is a time that tests move by hand.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func events() []transfer.Event {
	return []transfer.Event{
		{Kind: transfer.EventStep, Message: "created upload 1"},
		{Kind: transfer.EventFileStart, File: "source1", Path: "/data/r1.fq", Size: 4 << 20, Parts: 4, Bytes: 1 << 20},
		{Kind: transfer.EventBytes, File: "source1", Bytes: 1 << 20},
		{Kind: transfer.EventPartDone, File: "source1", Part: 2, Parts: 4, Bytes: 1 << 20},
		{Kind: transfer.EventBytes, File: "source1", Bytes: 512 << 10},
	}
}

func TestLines(t *testing.T) {
	var out bytes.Buffer
	l := NewLines(&out)
	c := &clock{now: time.Unix(0, 0)}
	l.t.now = c.Now
	for _, e := range events() {
		l.Event(e)
	}
	c.now = c.now.Add(2 * time.Second)
	l.Event(transfer.Event{Kind: transfer.EventBytes, File: "source1", Bytes: 1536 << 10})
	l.Event(transfer.Event{Kind: transfer.EventFileDone, File: "source1", Message: "checked"})
	l.Close()
	want := `created upload 1
source1: /data/r1.fq, 4.0 MiB in 4 parts, 1.0 MiB there already
source1: part 2 of 4 done (2.0 MiB of 4.0 MiB)
source1: done, 4.0 MiB at 1.5 MiB/s, checked
`
	if out.String() != want {
		t.Errorf("lines:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestBarLine(t *testing.T) {
	start := time.Unix(0, 0)
	f := &file{label: "source1", path: "/data/r1.fq", size: 4 << 20, done: 3 << 20, resumed: 1 << 20, start: start}
	now := start.Add(2 * time.Second)
	for _, tc := range []struct {
		width int
		want  string
	}{
		{100, "source1 r1.fq [=========================>        ]  75%     3.0 MiB/4.0 MiB   1.0 MiB/s ETA 1s"},
		{60, "source1 r1.fq   75%     3.0 MiB/4.0 MiB   1.0 MiB/s ETA 1s"},
		{30, "source1 r1.fq   75%     3.0 Mi"},
	} {
		if got := barLine(f, now, tc.width); got != tc.want {
			t.Errorf("width %d:\n%q\nwant\n%q", tc.width, got, tc.want)
		}
		if got := barLine(f, now, tc.width); len(got) > tc.width {
			t.Errorf("width %d: line of %d columns", tc.width, len(got))
		}
	}
	running := barLine(f, now, 120)
	f.end = now
	done := barLine(f, now, 120)
	if !strings.Contains(done, "done in 2s") || strings.Contains(done, "ETA") {
		t.Errorf("finished file: %q", done)
	}
	// The figures change length; the bar stays where it was.
	if strings.Index(running, "]") != strings.Index(done, "]") {
		t.Errorf("the bar moved:\n%s\n%s", running, done)
	}
}

// The bar redraws in place: each drawing moves up over the previous bars.
func TestBarRedraws(t *testing.T) {
	var out bytes.Buffer
	b := NewBar(&out, func() int { return 100 })
	for _, e := range events() {
		b.Event(e)
	}
	b.Event(transfer.Event{Kind: transfer.EventFileDone, File: "source1"})
	b.Close()
	b.Close()
	s := out.String()
	if !strings.HasPrefix(s, "\r\x1b[Jcreated upload 1\n") || strings.Count(s, "\x1b[1A") < 2 || !strings.HasSuffix(s, "done in 0s\n") {
		t.Errorf("drawing:\n%q", s)
	}
}
