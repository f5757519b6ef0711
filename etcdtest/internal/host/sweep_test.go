package host

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Stop removes a cluster's directory while other processes' Starts sweep
// the same parent. The sweep must never take a directory that is being
// removed for a crashed run's leftover, nor create anything in it: either
// makes Stop's removal fail ("directory not empty") and leaves the directory
// behind. Every cluster dir here is removed while a sweeper runs flat out;
// a lock is per open file, so one process shows what several would.
func TestStopRemovalRacesNoSweep(t *testing.T) {
	parent := t.TempDir()
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				SweepLeftovers(parent)
			}
		}()
	}
	defer func() { stop.Store(true); wg.Wait() }()

	for i := range 100 {
		dir, owner, err := MakeClusterDir(parent)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"node1", "node2", "node3"} {
			if err := os.MkdirAll(filepath.Join(dir, name, "member", "wal"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name+".pid"), []byte("1\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if err := RemoveClusterDir(dir, owner); err != nil {
			t.Fatalf("removal %d: %v", i, err)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("removal %d left %s behind (stat: %v)", i, dir, err)
		}
	}
}

// A directory without an owner file (a removal under way, or a crash in the
// middle of one) is not the sweep's to judge while it is young, and the sweep
// must not create an owner file in it.
func TestSweepLeavesOwnerlessYoungDirAlone(t *testing.T) {
	parent := t.TempDir()
	dir, owner, err := MakeClusterDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	owner.Close()
	if err := os.Remove(filepath.Join(dir, "owner")); err != nil {
		t.Fatal(err)
	}
	SweepLeftovers(parent)
	if _, err := os.Stat(filepath.Join(dir, "owner")); !os.IsNotExist(err) {
		t.Fatalf("sweep created an owner file in %s (stat: %v)", dir, err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("sweep removed a young ownerless dir: %v", err)
	}
}

// A crashed run's directory (owner file present, lock free) is swept.
func TestSweepRemovesCrashedRunsDir(t *testing.T) {
	parent := t.TempDir()
	dir, owner, err := MakeClusterDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	owner.Close() // the process "died"
	SweepLeftovers(parent)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("sweep left a crashed run's dir %s (stat: %v)", dir, err)
	}
	ents, _ := os.ReadDir(filepath.Dir(dir))
	if len(ents) != 0 {
		t.Fatalf("sweep left %d entries in %s", len(ents), filepath.Dir(dir))
	}
}

// Directories a crash left half-made or half-removed go once they have not
// changed for a minute — unless a live process still holds their lock.
func TestSweepRemovesStaleDirsButNotLockedOnes(t *testing.T) {
	parent := t.TempDir()
	base := filepath.Join(parent, "etcdtest-"+strconv.Itoa(os.Getuid()))
	mk := func(name string, owner bool) (string, *os.File) {
		dir := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Join(dir, "node1"), 0o700); err != nil {
			t.Fatal(err)
		}
		var f *os.File
		if owner {
			var ok bool
			var err error
			if f, ok, err = TryLock(filepath.Join(dir, "owner")); err != nil || !ok {
				t.Fatalf("lock %s: %v %v", dir, ok, err)
			}
		}
		old := time.Now().Add(-2 * time.Minute)
		if err := os.Chtimes(dir, old, old); err != nil {
			t.Fatal(err)
		}
		return dir, f
	}
	ownerless, _ := mk("1-aaaa", false)
	halfRemoved, f := mk(".rm-2-bbbb", true)
	f.Close()
	halfMade, _ := mk(".3-cccc", false)
	stillRemoving, held := mk(".rm-4-dddd", true)
	defer held.Close()

	SweepLeftovers(parent)
	for _, dir := range []string{ownerless, halfRemoved, halfMade} {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("sweep left stale %s (stat: %v)", dir, err)
		}
	}
	if _, err := os.Stat(stillRemoving); err != nil {
		t.Errorf("sweep removed %s while its lock is held: %v", stillRemoving, err)
	}
}

// A crashed run's pid files may name processes that are no longer its
// members: the pid was reused. The sweep kills only a process whose command
// line names the directory, and leaves any other alone.
func TestSweepKillsOnlyProcessesNamingTheDir(t *testing.T) {
	parent := t.TempDir()
	dir, owner, err := MakeClusterDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	member := helper(t, "sleep", filepath.Join(dir, "node1", "data"))
	stranger := helper(t, "sleep", filepath.Join(parent, "elsewhere"))
	for _, cmd := range []*exec.Cmd{member, stranger} {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
	}
	for name, cmd := range map[string]*exec.Cmd{"node1": member, "node2": stranger} {
		pid := []byte(strconv.Itoa(cmd.Process.Pid) + "\n")
		if err := os.WriteFile(filepath.Join(dir, name+".pid"), pid, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	owner.Close() // the run crashed
	SweepLeftovers(parent)

	exited := make(chan error, 1)
	go func() { exited <- member.Wait() }()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Errorf("the leftover member ended with %v, want SIGKILL", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the sweep left the crashed run's member running")
	}
	if err := stranger.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the sweep signalled a process not naming the dir: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the sweep left %s (stat: %v)", dir, err)
	}
}
