// Package progress shows a person what a transfer is doing: on a terminal,
// one bar per file (bytes, rate, time left) redrawn in place under the
// steps; elsewhere, one plain line per step, so that logs stay readable.
// It renders transfer.Events and knows nothing of how they came about.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/seqstore/seqstore/internal/transfer"
)

// Renderer shows events; Close ends the display.
type Renderer interface {
	Event(transfer.Event)
	Close()
}

// file is what is known of one file in flight.
type file struct {
	label   string
	path    string
	size    int64
	done    int64
	resumed int64 // bytes there before this run, left out of the rate
	parts   int
	// finished counts the bytes of finished parts, and those there
	// before.
	finished int64
	start    time.Time
	end      time.Time
}

// rate is the bytes per second moved by this run.
func (f *file) rate(now time.Time) float64 {
	if !f.end.IsZero() {
		now = f.end
	}
	secs := now.Sub(f.start).Seconds()
	if secs <= 0 {
		return 0
	}
	return float64(f.done-f.resumed) / secs
}

// tracker keeps the files in the order they started.
type tracker struct {
	files []*file
	now   func() time.Time
}

func (t *tracker) find(label string) *file {
	for _, f := range t.files {
		if f.label == label {
			return f
		}
	}
	return nil
}

// apply updates the files with e and returns the file it concerns.
func (t *tracker) apply(e transfer.Event) *file {
	if e.Kind == transfer.EventFileStart {
		f := &file{label: e.File, path: e.Path, size: e.Size, done: e.Bytes, resumed: e.Bytes, finished: e.Bytes, parts: e.Parts, start: t.now()}
		if old := t.find(e.File); old != nil {
			*old = *f
			return old
		}
		t.files = append(t.files, f)
		return f
	}
	f := t.find(e.File)
	if f == nil {
		return nil
	}
	switch e.Kind {
	case transfer.EventBytes:
		f.done += e.Bytes
	case transfer.EventPartDone:
		f.finished += e.Bytes
	case transfer.EventFileDone:
		f.end = t.now()
		f.done = f.size
	}
	return f
}

// Lines writes one line per step, for output that is not a terminal.
type Lines struct {
	mu sync.Mutex
	w  io.Writer
	t  tracker
}

// NewLines writes lines to w.
func NewLines(w io.Writer) *Lines { return &Lines{w: w, t: tracker{now: time.Now}} }

// Event writes the line an event calls for; byte counts alone call for none.
func (l *Lines) Event(e transfer.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.t.apply(e)
	switch e.Kind {
	case transfer.EventStep:
		fmt.Fprintln(l.w, e.Message)
	case transfer.EventFileStart:
		msg := fmt.Sprintf("%s: %s, %s", f.label, f.path, Bytes(f.size))
		if f.parts > 0 {
			msg += fmt.Sprintf(" in %d part%s", f.parts, plural(f.parts))
		}
		if f.resumed > 0 {
			msg += fmt.Sprintf(", %s there already", Bytes(f.resumed))
		}
		fmt.Fprintln(l.w, msg)
	case transfer.EventPartDone:
		if f != nil {
			fmt.Fprintf(l.w, "%s: part %d of %d done (%s of %s)\n", f.label, e.Part, e.Parts, Bytes(f.finished), Bytes(f.size))
		}
	case transfer.EventFileDone:
		if f != nil {
			msg := fmt.Sprintf("%s: done, %s at %s/s", f.label, Bytes(f.size), Bytes(int64(f.rate(f.end))))
			if e.Message != "" {
				msg += ", " + e.Message
			}
			fmt.Fprintln(l.w, msg)
		}
	}
}

// Close does nothing: every line is out already.
func (l *Lines) Close() {}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Bytes writes a byte count in binary units: 512 B, 1.5 MiB.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit && n > -unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/unit, 0
	for ; (v >= unit || v <= -unit) && i < 4; i++ {
		v /= unit
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTP"[i])
}

// Duration writes a time left as 1h02m, 3m05s or 7s.
func Duration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// Bar draws a bar per file on a terminal and redraws it in place, with the
// steps printed above the bars as they happen.
type Bar struct {
	mu     sync.Mutex
	w      io.Writer
	width  func() int
	t      tracker
	drawn  int // bar lines on screen now
	stop   chan struct{}
	closed chan struct{}
	once   sync.Once
}

// redrawEvery is how often bars are redrawn while bytes flow.
const redrawEvery = 200 * time.Millisecond

// NewBar draws on w, a terminal whose width in columns width reports.
func NewBar(w io.Writer, width func() int) *Bar {
	b := &Bar{w: w, width: width, t: tracker{now: time.Now}, stop: make(chan struct{}), closed: make(chan struct{})}
	go b.tick()
	return b
}

func (b *Bar) tick() {
	defer close(b.closed)
	t := time.NewTicker(redrawEvery)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.mu.Lock()
			b.redraw("")
			b.mu.Unlock()
		}
	}
}

// Event records e; steps and finished files are drawn at once, bytes at
// the next tick.
func (b *Bar) Event(e transfer.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f := b.t.apply(e)
	switch e.Kind {
	case transfer.EventStep:
		b.redraw(e.Message)
	case transfer.EventFileStart:
		b.redraw("")
	case transfer.EventFileDone:
		if f != nil && e.Message != "" {
			b.redraw(f.label + ": " + e.Message)
		} else {
			b.redraw("")
		}
	}
}

// Close draws the bars a last time and leaves them on screen. Calls after
// the first do nothing.
func (b *Bar) Close() {
	b.once.Do(func() {
		close(b.stop)
		<-b.closed
		b.mu.Lock()
		defer b.mu.Unlock()
		b.redraw("")
	})
}

// redraw moves up over the bars, prints a step if there is one, and draws
// the bars again below it.
func (b *Bar) redraw(step string) {
	var sb strings.Builder
	if b.drawn > 0 {
		fmt.Fprintf(&sb, "\x1b[%dA", b.drawn)
	}
	sb.WriteString("\r\x1b[J")
	if step != "" {
		sb.WriteString(step)
		sb.WriteString("\n")
	}
	width := b.width()
	now := b.t.now()
	for _, f := range b.t.files {
		sb.WriteString(barLine(f, now, width))
		sb.WriteString("\n")
	}
	b.drawn = len(b.t.files)
	io.WriteString(b.w, sb.String())
}

// barLine is one file's bar, cut to the terminal's width:
//
//	source1 r1.fq.gz [=========>          ]  48% 120.0 MiB/250.0 MiB  85.2 MiB/s ETA 2s
func barLine(f *file, now time.Time, width int) string {
	pct := 100.0
	if f.size > 0 {
		pct = 100 * float64(f.done) / float64(f.size)
	}
	rate := f.rate(now)
	when := ""
	switch {
	case !f.end.IsZero():
		when = "done in " + Duration(f.end.Sub(f.start))
	case rate > 0:
		when = "ETA " + Duration(time.Duration(float64(f.size-f.done)/rate*float64(time.Second)))
	}
	// Fixed widths keep the bar from jumping as the figures change.
	tail := fmt.Sprintf(" %3.0f%% %19s %11s %-12s", pct, Bytes(f.done)+"/"+Bytes(f.size), Bytes(int64(rate))+"/s", when)
	head := f.label + " " + lastElem(f.path) + " "
	barWidth := min(width-len(head)-len(tail)-2, 40)
	if barWidth < 5 {
		line := head + tail
		if len(line) > width && width > 0 {
			line = line[:width]
		}
		return strings.TrimRight(line, " ")
	}
	fill := int(float64(barWidth) * pct / 100)
	fill = max(0, min(fill, barWidth))
	bar := strings.Repeat("=", fill)
	if fill < barWidth {
		bar += ">" + strings.Repeat(" ", barWidth-fill-1)
	}
	return strings.TrimRight(head+"["+bar+"]"+tail, " ")
}

func lastElem(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
