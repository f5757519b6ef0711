package proc

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// On Linux every member gets a parent-death signal: if the test process
// dies — even by SIGKILL, which runs no cleanup — the kernel kills its
// members. The signal fires when the *thread* that forked the child exits,
// not the process, so all members are forked from one goroutine locked to
// an OS thread that never exits (see golang/go#27505).

// ParentDeathSignal reports whether Start's children die with this
// process by the kernel's doing, however it ends.
const ParentDeathSignal = true

type spawnRequest struct {
	cmd  *exec.Cmd
	done chan error
}

var (
	spawnOnce sync.Once
	spawnCh   chan spawnRequest
)

func spawner() {
	runtime.LockOSThread() // never unlocked: this thread must outlive every member
	for req := range spawnCh {
		req.done <- req.cmd.Start()
	}
}

// Start starts cmd in its own process group and, on Linux, with the
// parent-death signal SIGKILL, so that it dies with this process however
// this process ends. cmd.SysProcAttr is replaced.
func Start(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnCh = make(chan spawnRequest)
		go spawner()
	})
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true, // a terminal's ^C reaches the test process, which stops members in order
		Pdeathsig: syscall.SIGKILL,
	}
	req := spawnRequest{cmd: cmd, done: make(chan error, 1)}
	spawnCh <- req
	return <-req.done
}
