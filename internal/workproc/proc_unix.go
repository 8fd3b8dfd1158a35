//go:build unix

package workproc

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup puts the child in a process group of its own, out of
// reach of a terminal's Ctrl-C, which its parent handles for it.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// nonblocking makes descriptor fd non-blocking.
func nonblocking(fd int) error { return syscall.SetNonblock(fd, true) }
