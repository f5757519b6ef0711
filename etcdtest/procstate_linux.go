package etcdtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// processStopped reports whether every thread of pid is stopped by a
// signal. running describes the threads that are not, e.g. "3 of 14
// threads in state R, D", for an error when they never stop.
func processStopped(pid int) (stopped bool, running string) {
	stats, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(stats) == 0 {
		return false, "no threads listed in /proc"
	}
	var states []string
	n := 0
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue // the thread exited since the listing
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || i+2 >= len(s) {
			continue
		}
		// T and t: stopped; Z and X: a thread that has exited runs nothing.
		if state := s[i+2]; !strings.ContainsRune("TtZX", rune(state)) {
			n++
			if !strings.Contains(strings.Join(states, ""), string(state)) {
				states = append(states, string(state))
			}
		}
	}
	if n == 0 {
		return true, ""
	}
	return false, fmt.Sprintf("%d of %d threads in state %s", n, len(stats), strings.Join(states, ", "))
}
