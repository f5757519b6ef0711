package proc

import (
	"errors"
	"fmt"
)

// ErrPlatform is wrapped by CheckPlatform's error: local clusters cannot
// run on this OS.
var ErrPlatform = errors.New("local clusters need a Unix-like OS")

// CheckPlatform says whether members can run as local processes on goos
// (a runtime.GOOS value), and if not, why and what to do instead. Local
// clusters need what only Unix-like systems give: process groups (a
// terminal's ^C reaches the test process, not its members), SIGSTOP and
// SIGCONT (Pause and Resume), SIGKILL of a pid read from a file (the sweep
// of a crashed run), flock (ports reserved across processes, the build
// lock, the owner lock that tells a crashed run from a live one) and
// /bin/sh (the reaper). Windows has none of them.
func CheckPlatform(goos string) error {
	if goos != "windows" {
		return nil
	}
	return fmt.Errorf("etcdtest: %w (process groups, SIGSTOP/SIGCONT, SIGKILL, flock and /bin/sh), and %s has none: "+
		"set ETCDTEST_ENDPOINTS to the comma-separated client URLs of an etcd cluster to run against it "+
		"(faults then return ErrExternal), or run the suite on Linux, macOS or FreeBSD (WSL counts)", ErrPlatform, goos)
}
