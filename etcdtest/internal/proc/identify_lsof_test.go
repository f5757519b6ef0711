//go:build unix

package proc

import (
	"net"
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
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	stranger := helper("sleep")
	if err := stranger.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stranger.Process.Kill(); stranger.Wait() }()
	dialled, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer dialled.Close()
	conn, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

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
