//go:build unix

package proc

import "syscall"

// SIGSTOP and SIGCONT are Pause's and Resume's signals.
const (
	SIGSTOP = syscall.SIGSTOP
	SIGCONT = syscall.SIGCONT
)

// OwnGroup is the process attribute that starts a child in a process group
// of its own, so a terminal's ^C reaches only the test process, which stops
// its children in order.
func OwnGroup() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
