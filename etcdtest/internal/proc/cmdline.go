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
	out, _ := exec.Command("ps", "-p", strconv.Itoa(pid), "-o", "command=").Output()
	return string(out)
}
