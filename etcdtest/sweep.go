package etcdtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Every cluster lives in its own directory, <DataDir>/etcdtest-<uid>/<id>/,
// holding an "owner" file whose flock the cluster's process holds until
// Stop. The lock dies with the process however it ends, so at the next Start
// any directory whose lock can be taken belongs to a run that crashed: its
// members (recorded in <member>.pid, checked against their command line
// before a signal is sent) are killed and the directory removed.

// makeClusterDir creates a fresh cluster directory, 0700, and locks it.
// It is built under a dot name and renamed into place so a concurrent
// sweep never sees it unlocked.
func makeClusterDir(parent string) (dir string, owner *os.File, err error) {
	fix := "set Config.DataDir to a writable directory (tmpfs, such as /dev/shm, is fastest)"
	base := filepath.Join(parent, "etcdtest-"+strconv.Itoa(os.Getuid()))
	if err := os.MkdirAll(base, 0o700); err != nil {
		return "", nil, fmt.Errorf("etcdtest: data dir %s is unusable: %w; %s", parent, err, fix)
	}
	name := strconv.Itoa(os.Getpid()) + "-" + randomHex(4)
	tmp := filepath.Join(base, "."+name)
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return "", nil, fmt.Errorf("etcdtest: data dir %s is unusable: %w; %s", parent, err, fix)
	}
	f, ok, err := tryLock(filepath.Join(tmp, "owner"))
	if err != nil || !ok {
		os.RemoveAll(tmp)
		return "", nil, fmt.Errorf("etcdtest: lock cluster dir in %s: %v; %s", parent, err, fix)
	}
	dir = filepath.Join(base, name)
	if err := os.Rename(tmp, dir); err != nil {
		f.Close()
		os.RemoveAll(tmp)
		return "", nil, fmt.Errorf("etcdtest: data dir %s is unusable: %w; %s", parent, err, fix)
	}
	return dir, f, nil
}

// sweepLeftovers kills the members and removes the data of clusters whose
// process died without stopping them.
func sweepLeftovers(parent string) {
	base := filepath.Join(parent, "etcdtest-"+strconv.Itoa(os.Getuid()))
	ents, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range ents {
		dir := filepath.Join(base, e.Name())
		if strings.HasPrefix(e.Name(), ".") {
			// A directory being created; abandoned if it stays for long.
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > time.Minute {
				os.RemoveAll(dir)
			}
			continue
		}
		f, ok, err := tryLock(filepath.Join(dir, "owner"))
		if err != nil || !ok {
			continue // alive, or not ours to judge
		}
		killLeftoverMembers(dir)
		os.RemoveAll(dir)
		f.Close()
	}
}

func killLeftoverMembers(dir string) {
	pids, _ := filepath.Glob(filepath.Join(dir, "*.pid"))
	for _, pf := range pids {
		b, err := os.ReadFile(pf)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 1 {
			continue
		}
		// Only a process whose command line names this cluster's data is ours.
		if strings.Contains(commandLine(pid), dir+string(filepath.Separator)) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func commandLine(pid int) string {
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
		return strings.ReplaceAll(string(b), "\x00", " ")
	}
	out, _ := exec.Command("ps", "-p", strconv.Itoa(pid), "-o", "command=").Output()
	return string(out)
}
