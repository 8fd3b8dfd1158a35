//go:build !linux

package s3server

import "syscall"

// dieWithParent has nothing to offer where the kernel cannot tie a child's
// life to its parent's; Stop and the test cleanups end the server.
func dieWithParent() *syscall.SysProcAttr { return nil }
