//go:build unix && !linux

package proc

import (
	"os/exec"
	"syscall"
)

// Start starts cmd in its own process group. cmd.SysProcAttr is replaced.
// Without a parent-death signal, members of a test process killed outright
// are stopped by the sweep at the next Start.
func Start(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd.Start()
}
