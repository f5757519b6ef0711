//go:build !linux

package proc

// Stopped reports whether pid is stopped by a signal. Without /proc's
// thread states, ps's state of the process says (stoppedByPs); running
// describes the state it is in otherwise, for an error when it never stops.
func Stopped(pid int) (stopped bool, running string) { return stoppedByPs(pid) }
