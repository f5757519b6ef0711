package proc

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Some tests need a process of their own: the test binary plays it, chosen
// by $PROC_TEST_HELPER.
func TestMain(m *testing.M) {
	switch os.Getenv("PROC_TEST_HELPER") {
	case "":
		os.Exit(m.Run())
	case "sleep":
		time.Sleep(time.Minute)
		os.Exit(0)
	case "spawn": // a test process: starts a member, reports it, waits to be killed
		cmd := helper("sleep")
		if err := Start(cmd); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(cmd.Process.Pid)
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(2)
}

// helper returns a command running this test binary as the named helper.
func helper(name string, args ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "PROC_TEST_HELPER="+name)
	return cmd
}
