//go:build unix && !linux

package etcdtest

import (
	"os/exec"
	"syscall"
)

// Without a parent-death signal, members of a test process killed outright
// are stopped by the sweep at the next Start.
func startProcess(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd.Start()
}
