package etcdtest

import (
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
		}
	})
	return portDir, portDirErr
}

// portSet is a group of reserved ports, released together.
type portSet struct {
	ports []int
	locks []*os.File
}

func (s *portSet) release() {
	for _, f := range s.locks {
		f.Close()
	}
	s.locks, s.ports = nil, nil
}

// reservePorts reserves n free loopback ports.
func reservePorts(n int) (*portSet, error) {
	dir, err := portLockDir()
	if err != nil {
		return nil, fmt.Errorf("etcdtest: port reservation directory: %w; make %s writable or set TMPDIR", err, os.TempDir())
	}
	s := &portSet{}
	for tries := 0; len(s.ports) < n; tries++ {
		if tries > 2000 {
			s.release()
			return nil, fmt.Errorf("etcdtest: found no free port among %d tries in %d-%d: free some ports on 127.0.0.1", tries, portLow, portHigh)
		}
		p := portLow + rand.IntN(portHigh-portLow)
		f, ok, err := tryLock(filepath.Join(dir, strconv.Itoa(p)))
		if err != nil {
			s.release()
			return nil, fmt.Errorf("etcdtest: reserve port %d: %w", p, err)
		}
		if !ok {
			continue // another process of ours has it
		}
		if !portFree(p) {
			f.Close() // someone outside our reservations has it
			continue
		}
		s.ports = append(s.ports, p)
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
