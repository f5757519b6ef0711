package host

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// Windows has no flock. Local clusters, whose ports, directories and builds
// the locks guard, do not start there (proc.CheckPlatform), so every lock
// fails and says why.

var errNoFlock = fmt.Errorf("etcdtest: file locks (port reservations, cluster directories, the build lock) need a Unix-like OS's flock: %w; "+
	"on Windows set ETCDTEST_ENDPOINTS to use an existing etcd cluster, and ETCDTEST_BINARY to use an installed etcd", errors.ErrUnsupported)

// TryLock fails on Windows: there is no flock.
func TryLock(string) (*os.File, bool, error) { return nil, false, errNoFlock }

// TryLockExisting fails on Windows: there is no flock.
func TryLockExisting(string) (*os.File, bool, error) { return nil, false, errNoFlock }

// LockFile fails on Windows: there is no flock.
func LockFile(context.Context, string) (func(), error) { return nil, errNoFlock }

func lockOpened(f *os.File) (*os.File, bool, error) {
	f.Close()
	return nil, false, errNoFlock
}
