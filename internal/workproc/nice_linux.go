package workproc

import "syscall"

// lowerThreadPriority raises the calling thread's niceness by n, capped at
// 19. Linux applies setpriority(PRIO_PROCESS, 0) to the calling thread
// alone, not to the whole process.
func lowerThreadPriority(n int) error {
	// The system call answers 20 - nice, so that it is never negative.
	raw, err := syscall.Getpriority(syscall.PRIO_PROCESS, 0)
	if err != nil {
		return err
	}
	return syscall.Setpriority(syscall.PRIO_PROCESS, 0, min(20-raw+n, 19))
}

// onMainThread reports whether the calling thread is the process's first,
// whose thread ID is the process ID.
func onMainThread() bool { return syscall.Gettid() == syscall.Getpid() }
