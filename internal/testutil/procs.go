package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// KillTree sends SIGKILL to p and to every process descended from it, as
// a power cut or a killed container would end them all at once: a seqstore
// server and its work process alike. It reads the descendants before the
// first kill, so none is missed by being re-parented.
func KillTree(p *os.Process) {
	for _, pid := range append([]int{p.Pid}, descendants(p.Pid)...) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// descendants lists the processes below pid, children before their own.
func descendants(pid int) []int {
	var out []int
	for _, child := range Children(pid) {
		out = append(out, child)
		out = append(out, descendants(child)...)
	}
	return out
}

// Children lists pid's child processes, from Linux's
// /proc/PID/task/TID/children; none if pid is gone.
func Children(pid int) []int {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, field := range strings.Fields(string(b)) {
			if child, err := strconv.Atoi(field); err == nil {
				out = append(out, child)
			}
		}
	}
	return out
}

// Niceness reads the nice value of the thread whose stat file is statPath
// (/proc/PID/task/TID/stat, or /proc/thread-self/stat).
func Niceness(t testing.TB, statPath string) int {
	t.Helper()
	fields, err := statFields(statPath)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(fields[statNice])
	if err != nil {
		t.Fatalf("%s: %v", statPath, err)
	}
	return n
}

// Alive reports whether pid is a live process: neither gone nor a zombie
// waiting for a parent that does not reap it.
func Alive(pid int) bool {
	fields, err := statFields(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && fields[statState] != "Z"
}

// Indexes into statFields of the state (field 3 in proc(5)) and the nice
// value (field 19).
const (
	statState = 0
	statNice  = 16
)

// statFields returns the fields of a stat file from the third on (proc(5)
// numbers them from 1): the command name, the second, is in parentheses
// and may hold spaces, so they are counted from its closing parenthesis.
func statFields(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) <= statNice {
		return nil, fmt.Errorf("%s: %d fields after the command name, want at least %d", path, len(fields), statNice+1)
	}
	return fields, nil
}
