package etcdtest

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// An outsider that binds a reserved port between reservation and use makes
// the member fail with "address already in use"; Start must retry with fresh
// ports and succeed, and the retry must not use the stolen port.
func TestStartRetriesWhenAnOutsiderTakesAPort(t *testing.T) {
	var stolen net.Listener
	testHookPortsReserved = func(ports []int) {
		if stolen != nil {
			return // only the first attempt is sabotaged
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(ports[1])) // member 1's peer port
		if err != nil {
			t.Fatalf("take port %d: %v", ports[1], err)
		}
		stolen = l
	}
	defer func() { testHookPortsReserved = nil }()

	c, err := Start(context.Background(), Config{})
	if stolen != nil {
		defer stolen.Close()
	}
	if err != nil {
		t.Fatalf("Start did not recover from a stolen port: %v", err)
	}
	defer c.Stop(context.Background())
	_, stolenPort, _ := net.SplitHostPort(stolen.Addr().String())
	for _, m := range c.Members() {
		for _, arg := range m.l.args(m) {
			if strings.HasSuffix(arg, ":"+stolenPort) {
				t.Errorf("member %s still uses the stolen port: %s", m.Name(), arg)
			}
		}
	}
}

func TestReservedPortsAreDistinctAndHeldUntilReleased(t *testing.T) {
	a, err := reservePorts(20)
	if err != nil {
		t.Fatal(err)
	}
	b, err := reservePorts(20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range append(append([]int{}, a.ports...), b.ports...) {
		if seen[p] {
			t.Fatalf("port %d reserved twice", p)
		}
		if p < portLow || p >= portHigh {
			t.Fatalf("port %d outside %d-%d", p, portLow, portHigh)
		}
		seen[p] = true
	}
	dir, _ := portLockDir()
	if _, ok, _ := tryLock(dir + "/" + strconv.Itoa(a.ports[0])); ok {
		t.Fatal("a reserved port's lock could be taken again")
	}
	a.release()
	b.release()
}

func TestReleasedPortsLeaveNoLockFiles(t *testing.T) {
	s, err := reservePorts(6)
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := portLockDir()
	ports := slices.Clone(s.ports)
	s.release()
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
	again, ok, err := tryLock(path) // a newcomer creates the file afresh
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
	held, ok, err := tryLock(filepath.Join(dir, "15002"))
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
