package etcdtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// processStopped reports whether every thread of pid is stopped by a signal.
func processStopped(pid int) bool {
	stats, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(stats) == 0 {
		return false
	}
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			return false
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || i+2 >= len(s) || (s[i+2] != 'T' && s[i+2] != 't') {
			return false
		}
	}
	return true
}
