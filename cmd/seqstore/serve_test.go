package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// seqstore serve runs its ingestion in a child, seqstore serve-work, every
// thread of which is ten nice levels below the server's; an upload wakes
// it, its series reach the server's /metrics labelled process="work", and
// it ignores a SIGTERM of its own and ends when the server is killed with
// SIGKILL, leaving nothing running.
// With -work-niceness 0 there is no child.
func TestServeRunsItsWorkInANicedChild(t *testing.T) {
	bin := buildBinary(t)
	data := t.TempDir()
	addr, admin := freeAddr(t), freeAddr(t)
	srv := serveWith(t, bin, data, addr, []string{"-admin-addr", admin})
	parent := srv.cmd.Process.Pid
	kids := children(t, parent)
	if len(kids) != 1 {
		t.Fatalf("seqstore serve has children %v, want one work process", kids)
	}
	work := kids[0]
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", work))
	if args := strings.Split(string(cmdline), "\x00"); len(args) < 2 || args[1] != "serve-work" {
		t.Fatalf("the child runs %q, want seqstore serve-work", args)
	}
	want := min(threadNiceness(t, parent, parent)+10, 19)
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", work))
	for _, task := range tasks {
		tid, _ := strconv.Atoi(filepath.Base(task))
		if got := threadNiceness(t, work, tid); got != want {
			t.Errorf("work process thread %d runs at niceness %d, want %d", tid, got, want)
		}
	}

	env := exports(t, srv.stderr.String())
	var store struct{ ID string }
	json.Unmarshal(awsCLI(t, env, "create-sequence-store", "--name", "work"), &store)
	reads := gzipFile(t, "reads.fq.gz", func(w *bufio.Writer) {
		for i := range 1000 {
			fmt.Fprintf(w, "@r%d\nACGTACGTAC\n+\nIIIIIIIIII\n", i)
		}
	})
	if out, errOut, ok := run(t, bin, env, "upload", "-store", store.ID, "-subject", "s", "-sample", "s", "-wait", reads); !ok {
		t.Fatalf("upload failed:\n%s%s\n%s", out, errOut, srv.stderr.String())
	}
	if !strings.Contains(srv.stderr.String(), `msg="read set active" process=work`) {
		t.Errorf("the work process did not log the ingestion:\n%s", srv.stderr.String())
	}
	metrics := httpGet(t, "http://"+admin+"/metrics")
	if line := `seqstore_ingests_total{file_type="FASTQ",process="work",status="ACTIVE"} 1`; !strings.Contains(metrics, line) {
		t.Errorf("/metrics lacks %s:\n%s", line, grepLines(metrics, "seqstore_ingests_total"))
	}
	if got := httpGet(t, "http://"+admin+"/readyz"); !strings.Contains(got, "ready") {
		t.Errorf("/readyz = %q", got)
	}

	// A stop signal to every process of the service (as systemd sends it)
	// leaves the work to end when the server says so.
	if err := syscall.Kill(work, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if !alive(work) {
		t.Fatalf("the work process ended on SIGTERM, before its server:\n%s", srv.stderr.String())
	}

	killOnly(t, parent)
	deadline := time.Now().Add(30 * time.Second)
	for alive(work) {
		if time.Now().After(deadline) {
			syscall.Kill(work, syscall.SIGKILL)
			t.Fatal("the work process still runs 30 s after its server was killed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Only now: Wait also waits for the log pipe, which the child holds.
	srv.cmd.Wait()

	inProcess := serveWith(t, bin, t.TempDir(), freeAddr(t), []string{"-work-niceness", "0"})
	if kids := children(t, inProcess.cmd.Process.Pid); len(kids) != 0 {
		t.Errorf("with -work-niceness 0, seqstore serve has children %v", kids)
	}
}

// children lists a process's child processes.
func children(t *testing.T, pid int) []int {
	t.Helper()
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			n, err := strconv.Atoi(s)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, n)
		}
	}
	return out
}

// threadNiceness reads a thread's nice value (field 19 of its stat).
func threadNiceness(t *testing.T, pid, tid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/stat", pid, tid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	n, err := strconv.Atoi(fields[16])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// alive reports whether pid is a live process: neither gone nor a
// zombie waiting for a parent that does not reap it.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	return !strings.HasPrefix(s[strings.LastIndexByte(s, ')')+2:], "Z")
}

// killOnly sends SIGKILL to pid alone, as the kernel's
// out-of-memory killer would, leaving its children to notice.
func killOnly(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			out = append(out, strings.TrimRight(line, "\n"))
		}
	}
	return strings.Join(out, "\n")
}
