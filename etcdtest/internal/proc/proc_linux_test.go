package proc

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/internal/procfs"
)

// The parent-death signal: a test process killed outright (SIGKILL runs no
// cleanup) takes its members with it.
func TestStartedProcessDiesWithItsParent(t *testing.T) {
	parent := helper("spawn")
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { parent.Process.Kill(); parent.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("read the member's pid: %v", err)
	}
	member, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(member, syscall.SIGKILL) // should the test fail
	if !procfs.Alive(member) {
		t.Fatalf("member %d is not running before its parent dies", member)
	}
	parent.Process.Kill()
	parent.Wait()
	if !eventually(10*time.Second, func() bool { return !procfs.Alive(member) }) {
		t.Fatalf("member %d outlived its SIGKILLed parent", member)
	}
}

func TestStoppedSeesEveryThreadStopAndResume(t *testing.T) {
	cmd := helper("sleep")
	if err := Start(cmd); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := cmd.Process.Pid
	if stopped, _ := Stopped(pid); stopped {
		t.Fatal("a running process counts as stopped")
	}
	syscall.Kill(pid, syscall.SIGSTOP)
	if !eventually(5*time.Second, func() bool { s, _ := Stopped(pid); return s }) {
		_, running := Stopped(pid)
		t.Fatalf("SIGSTOP never showed: %s", running)
	}
	syscall.Kill(pid, syscall.SIGCONT)
	if !eventually(5*time.Second, func() bool { s, _ := Stopped(pid); return !s }) {
		t.Fatal("still stopped after SIGCONT")
	}
	if _, running := Stopped(pid); !strings.Contains(running, "threads in state") {
		t.Fatalf("running = %q, want the threads that run described", running)
	}
}

func TestStoppedOfNoProcessSaysSo(t *testing.T) {
	stopped, running := Stopped(-1)
	if stopped || running != "no threads listed in /proc" {
		t.Fatalf("Stopped(-1) = %v, %q", stopped, running)
	}
}

// The kernel tells who dialled: this process, not a stranger, not a pid
// that is no process.
func TestConnOwnerFindsTheDiallingProcess(t *testing.T) {
	stranger, _, conn := dialRig(t)

	if !ConnOwnersKnown {
		t.Fatal("ConnOwnersKnown is false on Linux")
	}
	for _, tc := range []struct {
		pids []int
		want int
	}{
		{[]int{stranger.Process.Pid, 0, os.Getpid()}, 2},
		{[]int{os.Getpid()}, 0},
		{[]int{stranger.Process.Pid, -1}, -1},
		{nil, -1},
	} {
		if got := ConnOwner(conn, tc.pids); got != tc.want {
			t.Errorf("ConnOwner(conn, %v) = %d, want %d", tc.pids, got, tc.want)
		}
	}
}
