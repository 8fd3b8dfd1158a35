package s3server

import "syscall"

// dieWithParent has the kernel kill the server if the test binary dies
// without running its cleanups (a timeout panic, a kill), so no server
// outlives the tests that started it.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
