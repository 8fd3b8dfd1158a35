//go:build !unix

package workproc

import (
	"errors"
	"os/exec"
)

func ownProcessGroup(*exec.Cmd) {}

func nonblocking(int) error {
	return errors.New("a work process needs a Unix system; run seqstore serve with -work-niceness 0")
}
