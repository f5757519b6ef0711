package host

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

func TestReservedPortsAreDistinctAndHeldUntilReleased(t *testing.T) {
	a, err := ReservePorts(20)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReservePorts(20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range append(append([]int{}, a.Ports...), b.Ports...) {
		if seen[p] {
			t.Fatalf("port %d reserved twice", p)
		}
		if p < portLow || p >= portHigh {
			t.Fatalf("port %d outside %d-%d", p, portLow, portHigh)
		}
		seen[p] = true
	}
	dir, _ := portLockDir()
	if _, ok, _ := TryLock(dir + "/" + strconv.Itoa(a.Ports[0])); ok {
		t.Fatal("a reserved port's lock could be taken again")
	}
	a.Release()
	b.Release()
}

func TestReleasedPortsLeaveNoLockFiles(t *testing.T) {
	s, err := ReservePorts(6)
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := portLockDir()
	ports := slices.Clone(s.Ports)
	s.Release()
	for _, p := range ports {
		if _, err := os.Stat(filepath.Join(dir, strconv.Itoa(p))); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("lock file of released port %d: %v, want it removed", p, err)
		}
	}
}

// A process that opened a port's lock file just before its holder released
// (and removed) it must not take the orphaned file for a reservation.
func TestALockOnARemovedFileIsNoReservation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "15001")
	late, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(path) // the holder releases
	f, ok, err := lockOpened(late)
	if err != nil || !ok {
		t.Fatalf("lock: ok=%v err=%v", ok, err)
	}
	defer f.Close()
	if lockedAtPath(f) {
		t.Fatal("a lock on a removed file counted as a reservation")
	}
	again, ok, err := TryLock(path) // a newcomer creates the file afresh
	if err != nil || !ok {
		t.Fatalf("lock: ok=%v err=%v", ok, err)
	}
	defer again.Close()
	if !lockedAtPath(again) {
		t.Fatal("a lock on the file the path names is a reservation")
	}
}

func TestSweepRemovesOnlyUnheldPortLocks(t *testing.T) {
	dir := t.TempDir()
	held, ok, err := TryLock(filepath.Join(dir, "15002"))
	if err != nil || !ok {
		t.Fatalf("lock: ok=%v err=%v", ok, err)
	}
	defer held.Close()
	orphan := filepath.Join(dir, "15003")
	if err := os.WriteFile(orphan, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	sweepPortLocks(dir)
	if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("orphaned lock file: %v, want it removed", err)
	}
	if !lockedAtPath(held) {
		t.Error("the sweep removed a held reservation")
	}
}
