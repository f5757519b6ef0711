//go:build unix

package etcdtest

import (
	"errors"
	"os"
	"syscall"
)

// tryLock takes an exclusive flock on path without waiting. The lock lives
// as long as the returned file is open, and dies with the process: that is
// what makes port reservations and leftover detection crash-proof.
// ok is false when another open file description holds the lock.
func tryLock(path string) (f *os.File, ok bool, err error) {
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

// tryLockExisting is tryLock for a file that must already exist: it never
// creates one. A missing file is reported as an error.
func tryLockExisting(path string) (f *os.File, ok bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, false, err
	}
	return lockOpened(f)
}
