package host

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
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
	}
	os.Exit(2)
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
