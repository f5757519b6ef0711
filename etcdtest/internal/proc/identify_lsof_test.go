//go:build unix

package proc

import (
	"os"
	"os/exec"
	"testing"
)

// What macOS uses instead of /proc, checked on any Unix with lsof: the
// dialling process is found, not a stranger, not a pid that is no process.
func TestConnOwnerByLsofFindsTheDiallingProcess(t *testing.T) {
	if _, err := exec.LookPath("lsof"); err != nil {
		t.Skip("no lsof on PATH (Debian: apt-get install lsof)")
	}
	stranger, _, conn := dialRig(t)

	for _, tc := range []struct {
		pids []int
		want int
	}{
		{[]int{stranger.Process.Pid, 0, os.Getpid()}, 2},
		{[]int{os.Getpid()}, 0},
		{[]int{os.Getpid(), os.Getpid()}, 0},
		{[]int{stranger.Process.Pid, -1}, -1},
		{nil, -1},
	} {
		if got := ConnOwnerByLsof(conn, tc.pids); got != tc.want {
			t.Errorf("ConnOwnerByLsof(conn, %v) = %d, want %d", tc.pids, got, tc.want)
		}
	}
}
