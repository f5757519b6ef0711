package host

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proc"
)

// The tests need processes of their own: a stand-in member that sleeps
// with a data directory on its command line, and a short-lived test process
// that leaves its cluster directories to a reaper. The test binary plays
// both, chosen by $HOST_TEST_HELPER.
func TestMain(m *testing.M) {
	switch os.Getenv("HOST_TEST_HELPER") {
	case "":
		os.Exit(m.Run())
	case "sleep": // a member: its arguments name its data
		time.Sleep(time.Minute)
		os.Exit(0)
	case "leave-to-reaper": // a test process that ends without Stop
		var r Reaper
		dir, _, err := MakeClusterDir(os.Args[1])
		if err == nil {
			err = r.Watch(os.Args[1])
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Print(dir)
		os.Exit(0)
	case "leave-member-to-reaper": // the same where members have no parent-death signal
		leaveMemberToReaper(os.Args[1])
	}
	os.Exit(2)
}

// leaveMemberToReaper makes a cluster directory under parent with a member
// started as proc.Start starts one where there is no parent-death signal
// (its own process group, nothing else), and a stranger whose pid file is
// there too but whose command line does not name the directory; starts the
// reaper; prints the directory and both pids; and exits without Stop.
func leaveMemberToReaper(parent string) {
	var r Reaper
	dir, _, err := MakeClusterDir(parent)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := dir
	for name, arg := range map[string]string{"node1": filepath.Join(dir, "node1", "data"), "node2": filepath.Join(parent, "elsewhere")} {
		cmd := exec.Command(os.Args[0], arg)
		cmd.Env = append(os.Environ(), "HOST_TEST_HELPER=sleep")
		cmd.SysProcAttr = proc.OwnGroup()
		err = errors.Join(err, cmd.Start())
		if err == nil {
			pid := strconv.Itoa(cmd.Process.Pid)
			err = os.WriteFile(filepath.Join(dir, name+".pid"), []byte(pid+"\n"), 0o600)
			out += " " + name + "=" + pid
		}
	}
	if err == nil {
		err = r.Watch(parent)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Print(out)
	os.Exit(0)
}

// helper returns a command running this test binary as the named helper.
func helper(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "HOST_TEST_HELPER="+name)
	return cmd
}

// gone polls until path no longer exists, for at most bound.
func gone(path string, bound time.Duration) bool {
	for deadline := time.Now().Add(bound); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(path); os.IsNotExist(err) {
			return true
		}
	}
	return false
}
