package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seqstore/seqstore/internal/testutil"
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
	kids := testutil.Children(parent)
	if len(kids) != 1 {
		t.Fatalf("seqstore serve has children %v, want one work process", kids)
	}
	work := kids[0]
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", work))
	if args := strings.Split(string(cmdline), "\x00"); len(args) < 2 || args[1] != "serve-work" {
		t.Fatalf("the child runs %q, want seqstore serve-work", args)
	}
	want := min(testutil.Niceness(t, fmt.Sprintf("/proc/%d/stat", parent))+10, 19)
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", work))
	for _, task := range tasks {
		if got := testutil.Niceness(t, task); got != want {
			t.Errorf("work process thread %s runs at niceness %d, want %d", task, got, want)
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
	_, metrics := testutil.Get(t, "http://"+admin+"/metrics")
	if line := `seqstore_ingests_total{file_type="FASTQ",process="work",status="ACTIVE"} 1`; !strings.Contains(metrics, line) {
		t.Errorf("/metrics lacks %s:\n%s", line, grepLines(metrics, "seqstore_ingests_total"))
	}
	if status, got := testutil.Get(t, "http://"+admin+"/readyz"); status != 200 || !strings.Contains(got, "ready") {
		t.Errorf("/readyz = %q", got)
	}

	// A stop signal to every process of the service (as systemd sends it)
	// leaves the work to end when the server says so.
	if err := syscall.Kill(work, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if !testutil.Alive(work) {
		t.Fatalf("the work process ended on SIGTERM, before its server:\n%s", srv.stderr.String())
	}

	killOnly(t, parent)
	deadline := time.Now().Add(30 * time.Second)
	for testutil.Alive(work) {
		if time.Now().After(deadline) {
			syscall.Kill(work, syscall.SIGKILL)
			t.Fatal("the work process still runs 30 s after its server was killed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Only now: Wait also waits for the log pipe, which the child holds.
	srv.cmd.Wait()

	inProcess := serveWith(t, bin, t.TempDir(), freeAddr(t), []string{"-work-niceness", "0"})
	if kids := testutil.Children(inProcess.cmd.Process.Pid); len(kids) != 0 {
		t.Errorf("with -work-niceness 0, seqstore serve has children %v", kids)
	}
}

// killOnly sends SIGKILL to pid alone, as the kernel's
// out-of-memory killer would, leaving its children to notice.
func killOnly(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
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
