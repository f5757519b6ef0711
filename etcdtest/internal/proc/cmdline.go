package proc

import (
	"os/exec"
	"strconv"

	"github.com/etcd-test-cluster/etcd-test-cluster/internal/procfs"
)

// CommandLine returns pid's command line, from /proc where there is one and
// from ps elsewhere, or "" when neither knows the process. A process is
// identified by it before a signal is sent to a pid read from a file: the
// pid may since belong to someone else.
func CommandLine(pid int) string {
	if cmd, err := procfs.Cmdline(pid); err == nil {
		return cmd
	}
	return commandLineByPs(pid)
}

// commandLineByPs asks ps, at unlimited width (-ww): a member's data dir
// comes after a long binary path, past the 80 columns ps may cut at.
func commandLineByPs(pid int) string {
	out, _ := exec.Command("ps", "-ww", "-p", strconv.Itoa(pid), "-o", "command=").Output()
	return string(out)
}
