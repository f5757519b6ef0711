package host

import (
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// Ports are reserved across processes with one lock file per port in a
// shared directory: a process holds the flock of every port its clusters
// use, so `go test ./...` packages and `ginkgo -p` processes never pick the
// same port, and a crashed process's reservations vanish with it. Ports are
// drawn from below the kernel's ephemeral range, so outgoing connections
// never take them; an outsider that binds one anyway makes the member fail
// with "address already in use", and Start retries with fresh ports.
//
// A released port's lock file is removed (while still locked), so the
// directory holds only the reservations alive now. Whoever locks a file
// checks afterwards that its path still names that file: a file unlinked
// by its releaser between another process's open and lock is not a
// reservation.

const (
	portLow  = 15000
	portHigh = 32000 // below Linux's default ephemeral range (32768-60999)
)

var (
	portDirOnce sync.Once
	portDir     string
	portDirErr  error
)

func portLockDir() (string, error) {
	portDirOnce.Do(func() {
		// Ports are machine-wide, so their reservations must not follow
		// each process's $TMPDIR.
		base := "/tmp"
		if fi, err := os.Stat(base); err != nil || !fi.IsDir() {
			base = os.TempDir()
		}
		portDir = filepath.Join(base, "etcdtest-ports")
		if portDirErr = os.MkdirAll(portDir, 0o777); portDirErr == nil {
			os.Chmod(portDir, 0o777|os.ModeSticky) // shared by every user's suites
			sweepPortLocks(portDir)
		}
	})
	return portDir, portDirErr
}

// sweepPortLocks removes lock files nobody holds: those of crashed
// processes, and of versions that did not remove them on release.
func sweepPortLocks(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		f, ok, err := TryLockExisting(filepath.Join(dir, e.Name()))
		if err != nil || !ok {
			continue
		}
		if lockedAtPath(f) {
			os.Remove(f.Name())
		}
		f.Close()
	}
}

// PortSet is a group of reserved ports, released together.
type PortSet struct {
	Ports []int // in the order they were reserved; nil once released
	locks []*os.File
}

// Release gives the ports back: their lock files are removed and unlocked.
func (s *PortSet) Release() {
	for _, f := range s.locks {
		os.Remove(f.Name())
		f.Close()
	}
	s.locks, s.Ports = nil, nil
}

// lockedAtPath reports whether f, just locked, is still the file its path
// names (see above on removal of released lock files).
func lockedAtPath(f *os.File) bool {
	held, err := f.Stat()
	if err != nil {
		return false
	}
	now, err := os.Stat(f.Name())
	return err == nil && os.SameFile(held, now)
}

// ReservePorts reserves n free loopback ports, distinct from every port
// another process of this toolkit holds, until Release or the process's end.
func ReservePorts(n int) (*PortSet, error) {
	dir, err := portLockDir()
	if err != nil {
		return nil, fmt.Errorf("etcdtest: port reservation directory: %w; make %s writable or set TMPDIR", err, os.TempDir())
	}
	s := &PortSet{}
	for tries := 0; len(s.Ports) < n; tries++ {
		if tries > 2000 {
			s.Release()
			return nil, fmt.Errorf("etcdtest: found no free port among %d tries in %d-%d: free some ports on 127.0.0.1", tries, portLow, portHigh)
		}
		p := portLow + rand.IntN(portHigh-portLow)
		f, ok, err := TryLock(filepath.Join(dir, strconv.Itoa(p)))
		if err != nil {
			s.Release()
			return nil, fmt.Errorf("etcdtest: reserve port %d: %w", p, err)
		}
		if !ok {
			continue // another process of ours has it
		}
		if !lockedAtPath(f) {
			f.Close() // released and removed between our open and lock
			continue
		}
		if !portFree(p) {
			f.Close() // someone outside our reservations has it
			continue
		}
		s.Ports = append(s.Ports, p)
		s.locks = append(s.locks, f)
	}
	return s, nil
}

func portFree(p int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// RandomHex returns n random bytes in hex: cluster tokens, run names and
// generated passwords.
func RandomHex(n int) string {
	b := make([]byte, n)
	crand.Read(b)
	return hex.EncodeToString(b)
}
