// Package heapcap measures the most heap a piece of code holds, for the
// tests and fuzz targets that prove a parser's memory stays bounded
// whatever its input.
package heapcap

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// Ceiling is the most heap a parser may hold for any input of up to 1 MB.
const Ceiling = 64 << 20

// MaxInput is the largest input the memory-bounded fuzz targets try.
const MaxInput = 1 << 20

// heapLive is the heap the last collection found reachable.
const heapLive = "/gc/heap/live:bytes"

// mu serialises measurements: the heap is the process's, so two at once
// would count each other.
var mu sync.Mutex

// Peak runs f and returns the most heap it held above what was held
// before, as the collections while it ran found it. The runtime's soft
// memory limit is set to the ceiling meanwhile: a heap that grows past it
// makes the collector run, and so be measured, whereas one that stays
// below it held less than the ceiling whether measured or not.
func Peak(ceiling uint64, f func()) uint64 {
	mu.Lock()
	defer mu.Unlock()
	runtime.GC()
	sample := []metrics.Sample{{Name: heapLive}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	base := read()
	old := debug.SetMemoryLimit(int64(base + ceiling))
	defer debug.SetMemoryLimit(old)

	var peak uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		s := []metrics.Sample{{Name: heapLive}}
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Microsecond):
			}
		}
	}()
	func() {
		// Deferred, so that sampling stops also when f ends its goroutine
		// (a t.Fatal inside it).
		defer func() {
			close(stop)
			<-sampled
		}()
		f()
	}()
	peak = max(peak, read())
	if peak < base {
		return 0
	}
	return peak - base
}

// PeakOfRepeatable is Peak for an f that can run again: when the first run
// holds more than ceiling, it runs f once more and returns that second
// figure. What a collection finds reachable includes whatever was
// allocated while it marked, and on a loaded machine marking takes longer,
// so code that allocates fast measures high beside other work (a CRAM
// decoder of short reads: 48-52 MiB alone, up to 69 MiB beside a running
// test suite). Code that holds too much holds it again.
func PeakOfRepeatable(ceiling uint64, f func()) uint64 {
	if peak := Peak(ceiling, f); peak <= ceiling {
		return peak
	}
	return Peak(ceiling, f)
}

// Check runs f and fails t when f held more than ceiling bytes of heap.
func Check(t testing.TB, ceiling uint64, f func()) {
	t.Helper()
	if got := Peak(ceiling, f); got > ceiling {
		t.Errorf("held %s of heap, more than the %s ceiling", mib(got), mib(ceiling))
	}
}

func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// Repeat streams head, then tail over and over until total bytes have
// been read, without holding more than head and tail: a hostile input of a
// gigabyte costs the test nothing unless the code under test keeps it.
func Repeat(head, tail []byte, total int64) *RepeatReader {
	return &RepeatReader{head: head, tail: tail, left: total}
}

// RepeatReader is what Repeat returns.
type RepeatReader struct {
	head, tail []byte
	pos        int
	left       int64
	read       int64
}

// Consumed is how many bytes have been read.
func (r *RepeatReader) Consumed() int64 { return r.read }

func (r *RepeatReader) Read(p []byte) (int, error) {
	if r.left <= 0 || len(r.head) == 0 && len(r.tail) == 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && r.left > 0 {
		var m int
		if len(r.head) > 0 {
			m = copy(p[n:], r.head)
			r.head = r.head[m:]
		} else {
			if len(r.tail) == 0 {
				break
			}
			m = copy(p[n:], r.tail[r.pos:])
			r.pos = (r.pos + m) % len(r.tail)
		}
		if int64(m) > r.left {
			m = int(r.left)
		}
		n += m
		r.left -= int64(m)
	}
	r.read += int64(n)
	return n, nil
}
