//go:build unix

package sdk

import (
	"errors"
	"syscall"
)

// processAlive reports whether pid exists (a zombie counts as alive until
// reaped, which its own parent does).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
