//go:build unix

package proc

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// What macOS and FreeBSD use instead of /proc, checked on any Unix with ps:
// a running process is not stopped, SIGSTOP shows, SIGCONT undoes it, and
// no process is no stop.
func TestStoppedByPsSeesSIGSTOPAndSIGCONT(t *testing.T) {
	if _, err := exec.LookPath("ps"); err != nil {
		t.Skip("no ps on PATH (Debian: apt-get install procps)")
	}
	cmd := helper("sleep")
	if err := Start(cmd); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := cmd.Process.Pid
	if stopped, running := stoppedByPs(pid); stopped || !strings.Contains(running, "in state") {
		t.Fatalf("a running process: stopped=%v, running=%q; want not stopped, its state described", stopped, running)
	}
	if err := cmd.Process.Signal(SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if !eventually(5*time.Second, func() bool { s, _ := stoppedByPs(pid); return s }) {
		_, running := stoppedByPs(pid)
		t.Fatalf("SIGSTOP never showed in ps: %s", running)
	}
	if err := cmd.Process.Signal(SIGCONT); err != nil {
		t.Fatal(err)
	}
	if !eventually(5*time.Second, func() bool { s, _ := stoppedByPs(pid); return !s }) {
		t.Fatal("still stopped in ps after SIGCONT")
	}
	cmd.Process.Kill()
	cmd.Wait()
	if stopped, running := stoppedByPs(pid); stopped || !strings.Contains(running, "no state from ps") {
		t.Fatalf("a reaped pid: stopped=%v, running=%q; want no stop, and why", stopped, running)
	}
}

// CommandLine's fallback where there is no /proc names the process's
// arguments as /proc does.
func TestCommandLineByPsNamesTheArguments(t *testing.T) {
	if _, err := exec.LookPath("ps"); err != nil {
		t.Skip("no ps on PATH (Debian: apt-get install procps)")
	}
	long := "/tmp/etcdtest-0/" + strings.Repeat("x", 300) + "/node1/" // past any terminal's width
	cmd := helper("sleep", long)
	if err := Start(cmd); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if got := commandLineByPs(cmd.Process.Pid); !strings.Contains(got, long) {
		t.Fatalf("commandLineByPs = %q, want it to hold %q", got, long)
	}
	if got := commandLineByPs(-1); strings.TrimSpace(got) != "" {
		t.Fatalf("commandLineByPs(-1) = %q, want empty", got)
	}
}
