package host

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/internal/procfs"
)

// Where there is no parent-death signal (macOS, FreeBSD), the reaper is
// what kills the members of a process that ended without Stop: checked
// here with members started without one, the reaper reading command lines
// from /proc and, as it does without /proc, from ps. A stranger whose pid
// file lies in the directory but whose command line does not name it
// lives on.
func TestReaperKillsMembersThatHaveNoParentDeathSignal(t *testing.T) {
	for _, tc := range []struct{ name, procfs string }{{"command lines from /proc", "/proc"}, {"command lines from ps", "/nonexistent"}} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := exec.LookPath("ps"); err != nil && tc.procfs != "/proc" {
				t.Skip("no ps on PATH (Debian: apt-get install procps)")
			}
			parent := t.TempDir()
			cmd := helper(t, "leave-member-to-reaper", parent)
			cmd.Env = append(cmd.Env, "TMPDIR="+t.TempDir(), "ETCDTEST_REAP_PROCFS="+tc.procfs)
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("helper: %v", err)
			}
			fields := strings.Fields(string(out))
			pids := map[string]int{}
			for _, f := range fields[1:] {
				name, pid, _ := strings.Cut(f, "=")
				pids[name], _ = strconv.Atoi(pid)
				defer func() { // should the test fail
					if p, err := os.FindProcess(pids[name]); err == nil {
						p.Kill()
					}
				}()
			}
			member, stranger := pids["node1"], pids["node2"]
			if member <= 0 || stranger <= 0 {
				t.Fatalf("helper printed %q, want a dir and two pids", out)
			}
			deadline := time.Now().Add(10 * time.Second)
			for procfs.Alive(member) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if procfs.Alive(member) {
				t.Fatalf("member %d outlived its test process and its reaper", member)
			}
			if !gone(fields[0], 10*time.Second) {
				t.Fatalf("the reaper left %s behind", fields[0])
			}
			if !procfs.Alive(stranger) {
				t.Fatalf("the reaper killed %d, whose command line does not name the directory", stranger)
			}
		})
	}
}
