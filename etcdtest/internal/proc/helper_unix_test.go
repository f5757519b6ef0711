//go:build unix

package proc

import "time"

// eventually polls cond until it holds, for at most bound.
func eventually(bound time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(bound); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}
