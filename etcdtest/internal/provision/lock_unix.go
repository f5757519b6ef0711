//go:build unix

package provision

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"
)

// lockFile waits for an exclusive flock on path, polling so ctx can end
// the wait. The lock dies with its process, so a build killed half-way
// never blocks the next one. It is the one process-wide build lock:
// flock is per open file, so two callers in one process exclude each
// other too.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	for {
		f, ok, err := tryLock(path)
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

// tryLock takes an exclusive flock on path without waiting; ok is false
// when another open file holds it.
func tryLock(path string) (f *os.File, ok bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return f, true, nil
}
