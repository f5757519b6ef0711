//go:build unix

package proc

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// A member runs in its own process group, so a terminal's ^C reaches only
// the test process, which stops members in order.
func TestStartPutsTheProcessInItsOwnGroup(t *testing.T) {
	cmd := helper("sleep", "node1")
	if err := Start(cmd); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pgid, err := syscall.Getpgid(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if pgid != cmd.Process.Pid || pgid == syscall.Getpgrp() {
		t.Fatalf("process group %d, want its own (%d), not the test's (%d)", pgid, cmd.Process.Pid, syscall.Getpgrp())
	}
	// Start returns once exec has closed the close-on-exec pipe, which the
	// kernel does before it writes the new program's arguments: for a
	// moment after, /proc/<pid>/cmdline can read empty.
	var got string
	if !eventually(time.Second, func() bool { got = CommandLine(cmd.Process.Pid); return strings.Contains(got, "node1") }) {
		t.Fatalf("CommandLine = %q, want it to name node1", got)
	}
}

func TestCommandLineOfNoProcessIsEmpty(t *testing.T) {
	cmd := helper("sleep")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	cmd.Process.Kill()
	cmd.Wait() // reaped: pid names no process (until reused)
	if got := CommandLine(pid); strings.TrimSpace(got) != "" {
		t.Fatalf("CommandLine of the reaped pid %d = %q, want empty", pid, got)
	}
}
