package provision

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// The build lock excludes a second holder, even in the same process,
// until the first lets go; a wait ends with its context.
func TestTheBuildLockLetsOneBuilderInAtATime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "etcd-v3.7.3.lock")
	unlock, err := lockFile(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if _, err := lockFile(ctx, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second lockFile while the first holds it: %v; want it to wait until its deadline", err)
	}

	got := make(chan error, 1)
	go func() {
		u, err := lockFile(context.Background(), path)
		if err == nil {
			u()
		}
		got <- err
	}()
	unlock()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a waiting builder did not get the lock within 5s of its release")
	}
}
