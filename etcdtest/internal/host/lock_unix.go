//go:build unix

package host

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"
)

// TryLock takes an exclusive flock on path without waiting. The lock lives
// as long as the returned file is open, and dies with the process: that is
// what makes port reservations and leftover detection crash-proof.
// ok is false when another open file description holds the lock.
func TryLock(path string) (f *os.File, ok bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, false, err
	}
	return lockOpened(f)
}

func lockOpened(f *os.File) (_ *os.File, ok bool, err error) {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return f, true, nil
}

// TryLockExisting is TryLock for a file that must already exist: it never
// creates one. A missing file is reported as an error.
func TryLockExisting(path string) (f *os.File, ok bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, false, err
	}
	return lockOpened(f)
}

// LockFile waits for an exclusive flock on path, polling so ctx can end the wait.
func LockFile(ctx context.Context, path string) (unlock func(), err error) {
	for {
		f, ok, err := TryLock(path)
		if err != nil {
			return nil, err
		}
		if ok {
			return func() { f.Close() }, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
