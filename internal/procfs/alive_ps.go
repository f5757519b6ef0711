package procfs

import (
	"os/exec"
	"strconv"
	"strings"
)

// aliveByPs is Alive where there is no /proc (macOS, FreeBSD): ps knows
// the process and its state is not Z (a zombie runs nothing). Built on
// every OS so Linux's specs can hold it against /proc.
func aliveByPs(pid int) bool {
	if pid <= 0 {
		return false
	}
	out, err := exec.Command("ps", "-p", strconv.Itoa(pid), "-o", "state=").Output()
	state := strings.TrimSpace(string(out))
	return err == nil && state != "" && state[0] != 'Z'
}
