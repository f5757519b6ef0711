package proc

import "syscall"

// SIGSTOP and SIGCONT do not exist on Windows: these are their Unix
// numbers, which os.Process.Signal refuses there. Nothing sends them on
// Windows, where local clusters do not start (CheckPlatform).
const (
	SIGSTOP = syscall.Signal(0x13)
	SIGCONT = syscall.Signal(0x12)
)

// OwnGroup is the process attribute that starts a child in a process group
// of its own, which on Windows keeps a console's Ctrl+C from it.
func OwnGroup() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}
