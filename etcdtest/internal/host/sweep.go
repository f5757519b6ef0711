package host

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proc"
)

// Every cluster lives in its own directory, <DataDir>/etcdtest-<uid>/<id>/,
// holding an "owner" file whose flock the cluster's process holds until
// Stop. The lock dies with the process however it ends, so at the next Start
// any directory whose lock can be taken belongs to a run that crashed: its
// members (recorded in <member>.pid, checked against their command line
// before a signal is sent) are killed and the directory removed.
//
// A directory is only ever removed under a dot name: whoever removes it
// (Stop, or a sweep) first renames it, atomically, out of the names a sweep
// judges. Removing it in place would unlink the owner file while its lock is
// still held, and a sweep in another process could then lock a fresh owner
// file in the half-removed directory — taking it for a crashed run's and
// making Stop's removal fail with "directory not empty".

// MakeClusterDir creates a fresh cluster directory under parent, 0700, and
// locks it: owner holds the lock until it is closed (RemoveClusterDir does)
// or the process ends. It is built under a dot name and renamed into place
// so a concurrent sweep never sees it unlocked.
func MakeClusterDir(parent string) (dir string, owner *os.File, err error) {
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
	f, ok, err := TryLock(filepath.Join(tmp, "owner"))
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

// SweepLeftovers kills the members and removes the data of clusters under
// parent whose process died without stopping them.
func SweepLeftovers(parent string) {
	base := filepath.Join(parent, "etcdtest-"+strconv.Itoa(os.Getuid()))
	ents, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range ents {
		dir := filepath.Join(base, e.Name())
		if strings.HasPrefix(e.Name(), ".") {
			// Being created or removed. Abandoned when it has not changed
			// for a minute and no one holds its lock (a crash mid-way). Two
			// removals of one tree at once are harmless: neither creates.
			if !isOld(e) {
				continue
			}
			f, ok, err := TryLockExisting(filepath.Join(dir, "owner"))
			if err == nil && !ok {
				continue
			}
			os.RemoveAll(dir)
			if f != nil {
				f.Close()
			}
			continue
		}
		f, ok, err := TryLockExisting(filepath.Join(dir, "owner"))
		switch {
		case err == nil && ok: // its process died
		case os.IsNotExist(err) && isOld(e):
			// No owner file: left by a crash in the middle of a removal
			// that was not renamed first (older versions of this package).
		default:
			continue // alive, or not ours to judge
		}
		killLeftoverMembers(dir)
		RemoveClusterDir(dir, f)
	}
}

// RemoveClusterDir removes a cluster directory whose owner lock the caller
// holds, and then releases the lock. The directory leaves the names a sweep
// judges before anything in it is removed (see above).
func RemoveClusterDir(dir string, owner *os.File) error {
	if owner != nil {
		defer owner.Close()
	}
	gone := filepath.Join(filepath.Dir(dir), ".rm-"+filepath.Base(dir))
	if err := os.Rename(dir, gone); err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	return os.RemoveAll(gone)
}

// isOld reports whether a directory has not changed for a minute: long
// enough that no Start or Stop is still at work in it.
func isOld(e os.DirEntry) bool {
	fi, err := e.Info()
	return err == nil && time.Since(fi.ModTime()) > time.Minute
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
		if strings.Contains(proc.CommandLine(pid), dir+string(filepath.Separator)) {
			if p, err := os.FindProcess(pid); err == nil {
				p.Kill() // SIGKILL
				p.Release()
			}
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
