//go:build unix

package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestTryLockIsExclusiveUntilTheFileCloses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	first, ok, err := TryLock(path)
	if err != nil || !ok {
		t.Fatalf("first lock: ok=%v err=%v", ok, err)
	}
	if _, ok, err := TryLock(path); err != nil || ok {
		t.Fatalf("second lock while held: ok=%v err=%v, want ok=false and no error", ok, err)
	}
	first.Close()
	again, ok, err := TryLock(path)
	if err != nil || !ok {
		t.Fatalf("lock after close: ok=%v err=%v", ok, err)
	}
	again.Close()
}

func TestTryLockExistingNeverCreatesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner")
	if _, _, err := TryLockExisting(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("lock of a missing file: %v, want it not to exist", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("TryLockExisting created %s (stat: %v)", path, err)
	}
}

// LockFile waits for the holder, but no longer than its context allows.
func TestLockFileWaitsForTheHolderBoundedByItsContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "build.lock")
	held, ok, err := TryLock(path)
	if err != nil || !ok {
		t.Fatalf("lock: ok=%v err=%v", ok, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if _, err := LockFile(ctx, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("LockFile while held: %v, want the context's deadline", err)
	}
	time.AfterFunc(100*time.Millisecond, func() { held.Close() })
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	unlock, err := LockFile(ctx, path)
	if err != nil {
		t.Fatalf("LockFile after the holder let go: %v", err)
	}
	unlock()
	if f, ok, _ := TryLock(path); !ok {
		t.Fatal("unlock did not release the lock")
	} else {
		f.Close()
	}
}
