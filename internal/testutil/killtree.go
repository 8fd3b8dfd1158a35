package testutil

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// KillTree sends SIGKILL to p and to every process descended from it, as
// a power cut or a killed container would end them all at once: a seqstore
// server and its work process alike. It reads the descendants from Linux's
// /proc/PID/task/TID/children before the first kill, so none is missed by
// being re-parented.
func KillTree(p *os.Process) {
	for _, pid := range append([]int{p.Pid}, descendants(p.Pid)...) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// descendants lists the processes below pid, children before their own.
func descendants(pid int) []int {
	tasks, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	var out []int
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + task.Name() + "/children")
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if child, err := strconv.Atoi(f); err == nil {
				out = append(out, child)
				out = append(out, descendants(child)...)
			}
		}
	}
	return out
}
