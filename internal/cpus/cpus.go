// Package cpus says how many goroutines CPU-bound work should run on, and
// gives the server's requests headroom in the Go scheduler.
//
// Go runs goroutines on GOMAXPROCS processors (Ps), one per core by
// default. When ingestion or a job keeps every P busy, a request whose
// bytes have just arrived is not even noticed until the runtime's monitor
// polls the network, up to 10 ms later, and then waits in a queue behind
// the busy goroutines: a GetSequenceStore that the handler answers in a
// millisecond takes tens of milliseconds at the client. With a few more Ps
// than cores, one is idle when a request arrives, so the goroutine runs at
// once and the kernel shares the cores between its thread and the busy
// ones, favouring the thread that has just woken.
//
// CPU-bound worker pools (inflating, deflating, decoding) must then size
// themselves by the cores, not by GOMAXPROCS, or they would fill the
// headroom again: they ask Compute.
//
// The headroom serves a server that ingests in its own process
// (-work-niceness 0). By default the work runs in a child process at a
// lower kernel priority (package workproc), whose runtime has no requests
// to make room for, and the server's own Ps are idle enough without it.
package cpus

import (
	"runtime"
	"sync/atomic"
)

// compute is the number Compute reports once AddHeadroom has run.
var compute atomic.Int32

// Compute is how many goroutines a CPU-bound worker pool should run: the
// Ps there were before AddHeadroom added any, else GOMAXPROCS.
func Compute() int {
	if n := compute.Load(); n > 0 {
		return int(n)
	}
	return runtime.GOMAXPROCS(0)
}

// AddHeadroom raises GOMAXPROCS by extra Ps above its current value (which
// follows the cores or the container's CPU limit, or the GOMAXPROCS
// variable) and keeps the current value as Compute. It returns both. An
// extra of zero or less changes nothing.
func AddHeadroom(extra int) (computeProcs, procs int) {
	n := runtime.GOMAXPROCS(0)
	if extra <= 0 {
		return n, n
	}
	compute.Store(int32(n))
	runtime.GOMAXPROCS(n + extra)
	return n, n + extra
}
