package workproc

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/seqstore/seqstore/internal/testutil"
)

// The test binary is its own work process: run with testChild set, it
// serves the channel with a counter of wake-ups, as seqstore serve-work
// does with its ingester and job runner, and writes a file when its parent
// closes the channel.
const testChild = "WORKPROC_TEST_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(testChild); dir != "" {
		os.Exit(runTestChild(dir))
	}
	os.Exit(m.Run())
}

func runTestChild(dir string) int {
	child, err := FromEnvironment()
	if err != nil {
		return 3
	}
	reg := prometheus.NewRegistry()
	wakes := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "test_wakes_total", Help: "Wake-ups."}, []string{"kind"})
	reg.MustRegister(wakes)
	err = child.Serve(context.Background(),
		func() { wakes.WithLabelValues("ingest").Inc() },
		func() { wakes.WithLabelValues("jobs").Inc() }, reg)
	if err != nil {
		return 4
	}
	os.WriteFile(filepath.Join(dir, "stopped-"+strconv.Itoa(os.Getpid())), nil, 0o644)
	return 0
}

func startTestChild(t *testing.T, niceness int) (*Process, string) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv(testChild, dir)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Start(Options{Path: exe, Args: []string{"-test.run=^$"}, Niceness: niceness, Grace: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, dir
}

// waitFor polls cond until it holds, failing after a generous minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wakeCount is the child's counter of kind, as the parent gathers it, and
// whether the series is labelled process="work".
func wakeCount(p *Process, kind string) (float64, bool) {
	mfs, err := p.Gather()
	if err != nil {
		return 0, false
	}
	for _, mf := range mfs {
		if mf.GetName() != "test_wakes_total" {
			continue
		}
		for _, m := range mf.Metric {
			labels := map[string]string{}
			for _, l := range m.Label {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["kind"] == kind {
				return m.GetCounter().GetValue(), labels["process"] == "work" && sorted(m.Label)
			}
		}
	}
	return 0, false
}

func sorted(labels []*dto.LabelPair) bool {
	for i := 1; i < len(labels); i++ {
		if labels[i-1].GetName() >= labels[i].GetName() {
			return false
		}
	}
	return true
}

// Every thread of the child runs at the parent's niceness plus the one
// asked for, and none of the parent's threads is moved.
func TestChildRunsNiced(t *testing.T) {
	self := testutil.Niceness(t, "/proc/thread-self/stat")
	for _, tc := range []struct{ niceness, want int }{
		{niceness: 0, want: self},
		{niceness: 7, want: min(self+7, 19)},
		{niceness: 40, want: 19}, // the kernel's floor
	} {
		t.Run(strconv.Itoa(tc.niceness), func(t *testing.T) {
			p, _ := startTestChild(t, tc.niceness)
			pid := p.Pid()
			// Wait until the child's runtime has started its threads.
			waitFor(t, "the child's metrics", func() bool { _, err := p.Gather(); return err == nil })
			tasks, err := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/stat")
			if err != nil || len(tasks) < 2 {
				t.Fatalf("the child's threads: %v %v", tasks, err)
			}
			for _, task := range tasks {
				if got := testutil.Niceness(t, task); got != tc.want {
					t.Errorf("thread %s runs at niceness %d, want %d", task, got, tc.want)
				}
			}
			mine, _ := filepath.Glob("/proc/self/task/*/stat")
			for _, task := range mine {
				if got := testutil.Niceness(t, task); got != self {
					t.Errorf("the parent's thread %s runs at niceness %d, want %d as before", task, got, self)
				}
			}
		})
	}
}

// Wake-ups reach the child, and its metrics come back labelled.
func TestWakesAndMetrics(t *testing.T) {
	p, _ := startTestChild(t, 5)
	p.WakeIngest()
	waitFor(t, "an ingest wake-up", func() bool { n, ok := wakeCount(p, "ingest"); return ok && n >= 1 })
	if n, _ := wakeCount(p, "jobs"); n != 0 {
		t.Fatalf("jobs woken %v times before any WakeJobs", n)
	}
	for range 100 {
		p.WakeJobs()
	}
	waitFor(t, "a jobs wake-up", func() bool { n, ok := wakeCount(p, "jobs"); return ok && n >= 1 })
	// Wake-ups not yet written are sent once: a hundred may arrive as
	// fewer, never as more.
	time.Sleep(50 * time.Millisecond)
	if n, _ := wakeCount(p, "jobs"); n > 100 {
		t.Fatalf("jobs woken %v times for 100 WakeJobs", n)
	}
	if err := p.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Close ends the child through its channel (it stops by itself, not by
// SIGKILL), and a child that dies is started again.
func TestRestartAndClose(t *testing.T) {
	p, dir := startTestChild(t, 1)
	first := p.Pid()
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a new child", func() bool { pid := p.Pid(); return pid != 0 && pid != first })
	second := p.Pid()
	p.WakeIngest()
	waitFor(t, "the new child's wake-up", func() bool { n, ok := wakeCount(p, "ingest"); return ok && n >= 1 })
	if _, err := os.Stat(filepath.Join(dir, "stopped-"+strconv.Itoa(first))); err == nil {
		t.Fatal("the killed child wrote that it stopped by itself")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "stopped-"+strconv.Itoa(second))); err != nil {
		t.Fatalf("the child did not stop by itself when its channel closed: %v", err)
	}
	if err := p.Check(context.Background()); err == nil {
		t.Fatal("Check passes after Close")
	}
	if _, err := p.Gather(); err == nil {
		t.Fatal("Gather answers after Close")
	}
}

// A process that its parent did not start as a work process says what to
// run instead.
func TestFromEnvironmentOutsideAParent(t *testing.T) {
	t.Setenv(envChannel, "")
	if _, err := FromEnvironment(); err == nil || !strings.Contains(err.Error(), "seqstore serve") {
		t.Fatalf("FromEnvironment = %v, want an error naming seqstore serve", err)
	}
}

// Where the system's temporary directory cannot be written (a read-only
// root file system), the metrics socket goes under the fallback.
func TestSocketInFallbackDir(t *testing.T) {
	dir := t.TempDir()
	fallback := t.TempDir()
	t.Setenv(testChild, dir)
	t.Setenv("TMPDIR", filepath.Join(dir, "missing"))
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Start(Options{Path: exe, Args: []string{"-test.run=^$"}, Grace: 10 * time.Second, FallbackDir: fallback})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !strings.HasPrefix(p.socketPath(), fallback+string(filepath.Separator)) {
		t.Fatalf("socket at %s, want under %s", p.socketPath(), fallback)
	}
	p.WakeIngest()
	waitFor(t, "an ingest wake-up", func() bool { n, ok := wakeCount(p, "ingest"); return ok && n >= 1 })
}
