package proc

import (
	"os/exec"
	"strconv"
	"strings"
)

// stoppedByPs is Stopped where there is no /proc (macOS, FreeBSD): ps
// reports one state for the process, and "T" (stopped by a signal) is what
// SIGSTOP leads to. There a stop takes the whole process at once — the
// kernel suspends the task, not thread after thread as Linux reports it —
// so one state is the answer. Z (exited) runs nothing either. Built on
// every OS so Linux's tests can check it against a real SIGSTOP.
func stoppedByPs(pid int) (stopped bool, running string) {
	out, err := exec.Command("ps", "-p", strconv.Itoa(pid), "-o", "state=").Output()
	state := strings.TrimSpace(string(out))
	if err != nil || state == "" {
		return false, "no state from ps -p " + strconv.Itoa(pid) + " -o state="
	}
	if strings.ContainsAny(state[:1], "TtZ") {
		return true, ""
	}
	return false, "in state " + state + " (ps)"
}
