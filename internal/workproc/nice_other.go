//go:build !linux

package workproc

import "errors"

// lowerThreadPriority is Linux's alone: elsewhere setpriority applies to
// the whole process, and would lower the API's priority with the work's.
func lowerThreadPriority(int) error {
	return errors.New("a work process below the API's priority needs Linux; run with -work-niceness 0")
}

// onMainThread is false: without lowerThreadPriority no thread is changed.
func onMainThread() bool { return false }
