package procfs

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// State returns the state letter /proc reports for pid: "R" running, "S"
// sleeping, "D" in uninterruptible wait, "T" stopped by a signal, "t"
// stopped by a tracer, "Z" zombie, "X" dead. It fails when there is no such
// process.
func State(pid int) (string, error) {
	if pid <= 0 {
		// /proc/0 does not exist and /proc/self is not what a caller
		// holding a pid means: say so rather than read a confusing path.
		return "", fmt.Errorf("procfs: no process has pid %d", pid)
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", fmt.Errorf("procfs: state of pid %d: %w", pid, err)
	}
	s, ok := stateOf(b)
	if !ok {
		return "", fmt.Errorf("procfs: state of pid %d: no state in %q", pid, b)
	}
	return s, nil
}

// Alive reports whether pid is a live process: it exists and has not
// exited (a zombie, exited but not yet reaped, is not alive).
func Alive(pid int) bool {
	s, err := State(pid)
	return err == nil && s != "Z" && s != "X"
}

// ThreadStates returns the state letter of each thread of pid, one per
// thread listed in /proc/<pid>/task, in the order /proc lists them. A
// thread that exited between the listing and the read has "" as its state.
// It fails when no thread is listed: pid does not exist (any more).
func ThreadStates(pid int) ([]string, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err == nil && len(tasks) == 0 {
		err = fmt.Errorf("no threads in %s", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("procfs: threads of pid %d: %w", pid, err)
	}
	states := make([]string, len(tasks))
	for i, t := range tasks {
		if b, err := os.ReadFile(dir + "/" + t.Name() + "/stat"); err == nil {
			states[i], _ = stateOf(b)
		}
	}
	return states, nil
}

// Cmdline returns pid's command line, its arguments separated by single
// spaces. It is "" for a process without one (a kernel thread, a zombie).
func Cmdline(pid int) (string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return "", fmt.Errorf("procfs: command line of pid %d: %w", pid, err)
	}
	// Each argument ends in a NUL, the last one included.
	return strings.TrimSuffix(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})), " "), nil
}

// Pids returns the pids of the processes /proc lists, in its order.
func Pids() ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("procfs: list processes: %w", err)
	}
	var pids []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// stateOf returns the state field of a /proc/<pid>/stat line: the letter
// after the last ')', which closes the command name.
func stateOf(stat []byte) (string, bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return "", false
	}
	return string(stat[i+2]), true
}
