package proc

import (
	"fmt"
	"strings"

	"github.com/etcd-test-cluster/etcd-test-cluster/internal/procfs"
)

// Stopped reports whether every thread of pid is stopped by a
// signal. running describes the threads that are not, e.g. "3 of 14
// threads in state R, D", for an error when they never stop.
func Stopped(pid int) (stopped bool, running string) {
	threads, err := procfs.ThreadStates(pid)
	if err != nil {
		return false, "no threads listed in /proc"
	}
	var states []string
	n := 0
	for _, state := range threads {
		// "": the thread exited since the listing. T and t: stopped; Z and
		// X: a thread that has exited runs nothing.
		if state == "" || strings.Contains("TtZX", state) {
			continue
		}
		n++
		if !strings.Contains(strings.Join(states, ""), state) {
			states = append(states, state)
		}
	}
	if n == 0 {
		return true, ""
	}
	return false, fmt.Sprintf("%d of %d threads in state %s", n, len(threads), strings.Join(states, ", "))
}
