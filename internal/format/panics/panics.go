// Package panics turns a panic into an error on the goroutine it happened
// on. A recover only catches panics of its own goroutine, so every
// goroutine a reader, writer or analysis starts defers Recover once at its
// root and hands the error to its caller through the error path it already
// has (a Read, Write, Close or returned error). A fault found in one input
// then fails that input, never the process.
package panics

import (
	"fmt"
	"runtime/debug"
)

// Error is a panic caught and turned into an error. It is a fault of the
// code, not of the input, and it wraps nothing: a panic value that is an
// error must not pass for a defect of the file.
type Error struct {
	Value any    // what was passed to panic
	Stack []byte // the panicking goroutine's stack, for the log
}

func (e *Error) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Recover turns a panic of the function that defers it into *err, an
// *Error, and leaves *err alone otherwise. It must itself be the deferred
// call (defer panics.Recover(&err)), not be called from a deferred
// function, for recover to see the panic.
func Recover(err *error) {
	if p := recover(); p != nil {
		*err = &Error{Value: p, Stack: debug.Stack()}
	}
}
