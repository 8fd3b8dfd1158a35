// Package workproc runs a node's background work (ingestion and job items)
// in a child process at a lower CPU priority than the process that answers
// requests, keeps that child running, and carries the little the two say to
// each other: wake-ups from the API to the work, and the work's metrics
// back to the API's /metrics.
//
// # Why a second process
//
// Ingestion and jobs keep every core busy for minutes. A request that
// arrives meanwhile wakes a thread that the kernel's scheduler, treating it
// as an equal of the busy ones, may leave waiting a whole time slice: on a
// 250 Hz kernel without preemption that was up to 20 ms, every process
// alike, and a GetSequenceStore answered in a millisecond took ten times
// that at the client. Niceness is the kernel's way of saying which work may
// wait, but in Linux it belongs to threads, and a Go runtime moves its
// goroutines between all of its threads: niced threads in the server's own
// runtime were tried, with the analysis goroutines locked to them, and the
// hand-offs between locked threads cost a fifth more CPU. A child process
// whose every thread runs at a lower priority hands nothing off; the kernel
// gives a woken request thread a core at once, and the work takes back what
// requests leave.
//
// The child is the same binary (seqstore serve-work, with the serve flags),
// started from a thread whose niceness has been raised just for the fork:
// Linux copies a thread's niceness to the threads and processes it creates,
// so the child and every thread of its runtime start niced, and the
// server's own threads are never touched.
//
// # The channel
//
// The child reads its wake-ups from a pipe the parent holds open (file
// descriptor 3): one byte each, Ingest or Jobs. When the parent goes, by
// a stop or by SIGKILL, the pipe reaches end of file, and the child stops
// its work and gives its leases back, so nothing outlives the server. The
// child is in a process group of its own, so a Ctrl-C in a terminal reaches
// the parent only, which ends the child through the pipe after its own
// requests (seqstore serve-work also ignores SIGINT and SIGTERM, which
// systemd sends to every process of a service); a child that ends any
// other way is started again.
//
// The child's metrics are read over a Unix socket in a directory only the
// server's user can enter, as length-delimited protocol-buffer metric
// families, and served beside the parent's with the label process="work".
package workproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"
)

// Wake-up messages, one byte each on the channel.
const (
	// Ingest says a read set's upload is complete and waits for ingestion.
	Ingest byte = 'i'
	// Jobs says a job was started and its items wait for a worker.
	Jobs byte = 'j'
)

// Environment variables that tell a child where its channel and metrics
// socket are.
const (
	envChannel = "SEQSTORE_WORK_CHANNEL"
	envMetrics = "SEQSTORE_WORK_METRICS_SOCKET"
)

// channelFD is the child's descriptor of the wake-up pipe: the first of
// exec.Cmd.ExtraFiles.
const channelFD = 3

// Restart back-off: the first wait after a child ends, and the longest.
const (
	firstBackoff = time.Second
	maxBackoff   = 30 * time.Second
	// A child that ran this long before it ended is restarted after the
	// first back-off again, not a longer one.
	stableRun = time.Minute
)

// metricsTimeout bounds one read of the child's metrics.
const metricsTimeout = 5 * time.Second

// Options say how to start the child.
type Options struct {
	// Path and Args are the program and its arguments (without the
	// program's name).
	Path string
	Args []string
	// Niceness is how many levels below the parent's priority the child
	// runs (as nice -n takes it); the kernel caps the result at 19.
	Niceness int
	// Grace is how long Close waits for the child to end its work before
	// it is killed.
	Grace time.Duration
	Log   *slog.Logger
	// FallbackDir holds the child's metrics socket when the system's
	// temporary directory cannot.
	FallbackDir string
}

// Process is the parent's handle on its work process. Its methods are safe
// for concurrent use.
type Process struct {
	opts Options
	dir  string // holds the metrics socket; 0700

	mu      sync.Mutex
	cmd     *exec.Cmd // the running child, nil between runs
	channel *os.File  // the write end of the running child's pipe
	pending []byte    // wake-up messages not yet written, each once

	kick    chan struct{} // a wake-up is pending
	closing chan struct{} // closed by Close
	stopped chan struct{} // the supervisor has returned
}

// Start starts the child, waits until it has opened its stores and
// answers, and starts a supervisor that starts it again whenever it ends
// before Close. It fails if the first child fails to start, so that a
// server whose work cannot run says so at once.
func Start(opts Options) (*Process, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	dir, err := os.MkdirTemp("", "seqstore-work-")
	if err != nil && opts.FallbackDir != "" {
		// A read-only root file system, as hardened containers have.
		dir, err = os.MkdirTemp(opts.FallbackDir, "work-")
	}
	if err != nil {
		return nil, fmt.Errorf("work process: a directory for its metrics socket: %w", err)
	}
	p := &Process{opts: opts, dir: dir, kick: make(chan struct{}, 1), closing: make(chan struct{}), stopped: make(chan struct{})}
	c, err := p.spawn()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	go p.supervise(c)
	go p.writeWakes()
	return p, nil
}

// socketPath is where the child serves its metrics.
func (p *Process) socketPath() string { return filepath.Join(p.dir, "metrics.sock") }

// child is one run of the work process.
type child struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd.Wait has returned, with err set
	err    error
}

// startTimeout bounds how long a child may take to open its stores.
const startTimeout = 2 * time.Minute

// spawn starts one child, waits until it answers on its socket, and makes
// it the current one.
func (p *Process) spawn() (*child, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("work process: %w", err)
	}
	os.Remove(p.socketPath())
	cmd := exec.Command(p.opts.Path, p.opts.Args...)
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.ExtraFiles = []*os.File{r}
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", envChannel, channelFD), envMetrics+"="+p.socketPath())
	ownProcessGroup(cmd)
	err = startNiced(cmd, p.opts.Niceness)
	r.Close() // the child has its own copy
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("work process: start %s: %w", p.opts.Path, err)
	}
	c := &child{cmd: cmd, exited: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.exited)
	}()
	// The child listens on its socket once its stores are open.
	deadline := time.Now().Add(startTimeout)
	for {
		conn, err := net.Dial("unix", p.socketPath())
		if err == nil {
			conn.Close()
			break
		}
		select {
		case <-c.exited:
			w.Close()
			return nil, fmt.Errorf("work process ended as it started (%s); its log says why", errOrExit(c.err))
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-c.exited
			w.Close()
			return nil, fmt.Errorf("work process did not open its stores within %s", startTimeout)
		}
	}
	p.mu.Lock()
	p.cmd, p.channel = cmd, w
	if p.isClosing() {
		// Close came while this child started: end it as Close would.
		w.Close()
		p.channel = nil
	}
	// A new child looks for work when it starts; what was pending is
	// covered by that.
	p.pending = nil
	p.mu.Unlock()
	p.opts.Log.Info("work process started: ingestion and jobs run in it, below the API's CPU priority", "pid", cmd.Process.Pid, "niceness", p.opts.Niceness)
	return c, nil
}

// startNiced starts cmd from a thread of its own whose niceness is raised
// by niceness first. The thread is never given back to the Go scheduler:
// the goroutine ends locked to it, and the runtime ends the thread. The
// process's main thread is the exception (the runtime parks it for good
// instead of ending it), so a goroutine that lands there holds it while
// another does the work on some other thread.
func startNiced(cmd *exec.Cmd, niceness int) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if onMainThread() {
			errc <- startNiced(cmd, niceness)
			runtime.UnlockOSThread()
			return
		}
		if niceness > 0 {
			if err := lowerThreadPriority(niceness); err != nil {
				errc <- fmt.Errorf("lower the priority of the thread that starts it: %w", err)
				return
			}
		}
		errc <- cmd.Start()
	}()
	return <-errc
}

// supervise waits for the child and starts another when it ends, until
// Close.
func (p *Process) supervise(c *child) {
	defer close(p.stopped)
	backoff := firstBackoff
	for {
		started := time.Now()
		<-c.exited
		p.mu.Lock()
		p.cmd = nil
		if p.channel != nil {
			p.channel.Close()
			p.channel = nil
		}
		p.mu.Unlock()
		if p.isClosing() {
			return
		}
		if time.Since(started) > stableRun {
			backoff = firstBackoff
		}
		p.opts.Log.Error("work process ended; ingestion and jobs wait until it is started again", "err", errOrExit(c.err), "restart in", backoff)
		for {
			select {
			case <-p.closing:
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
			next, err := p.spawn()
			if err == nil {
				c = next
				break
			}
			p.opts.Log.Error("work process did not start", "err", err, "retry in", backoff)
		}
	}
}

// isClosing reports whether Close has been called.
func (p *Process) isClosing() bool {
	select {
	case <-p.closing:
		return true
	default:
		return false
	}
}

func errOrExit(err error) string {
	if err == nil {
		return "exited with status 0"
	}
	return err.Error()
}

// WakeIngest tells the child an upload is complete.
func (p *Process) WakeIngest() { p.wake(Ingest) }

// WakeJobs tells the child a job was started.
func (p *Process) WakeJobs() { p.wake(Jobs) }

// wake marks a wake-up pending and lets the writer send it. It never
// blocks: a child too busy to read its pipe is busy with work anyway, and
// looks for more when it is done.
func (p *Process) wake(msg byte) {
	p.mu.Lock()
	if !slices.Contains(p.pending, msg) {
		p.pending = append(p.pending, msg)
	}
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// writeWakes writes pending wake-ups to the current child until Close.
func (p *Process) writeWakes() {
	for {
		select {
		case <-p.kick:
		case <-p.stopped:
			return
		}
		p.mu.Lock()
		msg := p.pending
		p.pending = nil
		w := p.channel
		p.mu.Unlock()
		if w != nil && len(msg) > 0 {
			// An error means the child has ended; the supervisor starts
			// another, which looks for work as it starts.
			w.Write(msg)
		}
	}
}

// Check reports whether a child is running, for the readiness check.
func (p *Process) Check(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return errors.New("the work process is not running (see the log); ingestion and jobs wait for it")
	}
	return nil
}

// Pid is the running child's process ID, or 0 between runs.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Close ends the child: it closes the channel, so the child stops its work
// and gives its leases back, and kills it if it has not ended within the
// grace.
func (p *Process) Close() error {
	p.mu.Lock()
	if p.isClosing() {
		p.mu.Unlock()
		<-p.stopped
		return nil
	}
	close(p.closing)
	if p.channel != nil {
		p.channel.Close()
		p.channel = nil
	}
	p.mu.Unlock()
	defer os.RemoveAll(p.dir)
	select {
	case <-p.stopped:
		return nil
	case <-time.After(p.opts.Grace):
	}
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if cmd != nil {
		p.opts.Log.Warn("work process did not stop within the grace; killing it", "pid", cmd.Process.Pid, "grace", p.opts.Grace)
		cmd.Process.Kill()
	}
	<-p.stopped
	return nil
}

// Gather reads the child's metric families and labels each series
// process="work". While no child answers it returns none, with the error.
func (p *Process) Gather() ([]*dto.MetricFamily, error) {
	conn, err := net.DialTimeout("unix", p.socketPath(), metricsTimeout)
	if err != nil {
		return nil, fmt.Errorf("work process metrics: %w", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(metricsTimeout))
	dec := expfmt.NewDecoder(bufio.NewReader(conn), expfmt.NewFormat(expfmt.TypeProtoDelim))
	var out []*dto.MetricFamily
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, fmt.Errorf("work process metrics: %w", err)
		}
		for _, m := range mf.Metric {
			m.Label = append(m.Label, &dto.LabelPair{Name: proto.String("process"), Value: proto.String("work")})
			slices.SortFunc(m.Label, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
		}
		out = append(out, mf)
	}
}
