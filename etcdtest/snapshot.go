package etcdtest

// Snapshots: a suite saves a member's data to a file once (Member.Snapshot)
// and boots clusters from it (Config.Snapshot), to start from a prepared
// data set instead of writing it again in every spec.
//
// Saving goes through the client API (Maintenance.Snapshot streams the
// member's backend, with a SHA-256 trailer), so it needs nothing but a
// client. Restoring cannot: it rewrites the backend's membership and writes
// a WAL and a raft snapshot for the new members, which is etcd's own code
// (etcdutl snapshot restore since 3.5, etcdctl snapshot restore in 3.4).
// The server is never a Go dependency of this module, so that code runs as a
// tool: an etcdutl next to the etcd binary (release tarballs ship one), else
// a managed build of etcdutl at the binary's version, made and cached like
// the server's (internal/provision; a few seconds once the server's build has warmed
// the Go build cache). etcd 3.4 has no etcdutl module: there an etcdctl next
// to the binary (Debian's etcd-client) restores.
//
// Each member is restored with this cluster's names, peer URLs and fresh
// token, exactly the flags it then starts with, so the member and cluster
// IDs are the ones a new cluster derives (etcd computes them the same way on
// restore) and readiness checks them as usual.

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/clients"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/provision"
)

// Snapshot saves the member's backend to the file path, as etcdctl
// snapshot save does: a consistent point-in-time copy of the whole key
// space (leases, auth and membership included) holding every write
// acknowledged before the call, ending in a checksum that a restore
// verifies. The file is written atomically (a temporary file in the
// same directory, renamed when complete) with mode 0600. Boot a cluster
// from it with Config.Snapshot.
//
// ctx bounds the transfer; without a deadline Config.StartTimeout does (a
// snapshot stream gets no CallTimeout). A member of this package's cluster
// that is not running fails at once.
func (m *Member) Snapshot(ctx context.Context, path string) error {
	if m.l != nil {
		if st := m.State(); st != Running {
			return fmt.Errorf("etcdtest: snapshot of member %s: it is %s; Resume or Restart it first, or save another member's", m.name, st)
		}
	}
	ctx, cancel := clients.WithDefaultDeadline(ctx, m.c.cfg.StartTimeout)
	defer cancel()
	if err := m.saveSnapshot(ctx, path); err != nil {
		return fmt.Errorf("etcdtest: snapshot of member %s to %s: %w", m.name, path, err)
	}
	return nil
}

func (m *Member) saveSnapshot(ctx context.Context, path string) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-*") // 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	// A member snapshots what it has applied, which may lag what the
	// leader acknowledged. A linearizable read through it first waits until
	// it has applied everything committed before the call, so the file holds
	// every write acknowledged before Snapshot was called.
	if _, err := m.client.Get(ctx, "etcdtest-snapshot"); err != nil {
		return fmt.Errorf("catch up with the leader before the snapshot: %w", err)
	}
	rc, err := m.client.Snapshot(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	if _, err := io.Copy(f, rc); err != nil {
		return err
	}
	// The stream ends cleanly also when ctx ends mid-way on some client
	// versions; a snapshot cut short must not be renamed into place.
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// restoreSnapshot fills every member's data dir from Config.Snapshot before
// the members first start; without one it does nothing.
func (l *local) restoreSnapshot(ctx context.Context) error {
	file := l.cfg.Snapshot
	if file == "" {
		return nil
	}
	fix := "point Config.Snapshot at a file saved by Member.Snapshot or etcdctl snapshot save" // withDefaults checked it exists
	tool, err := provision.Restorer(ctx, l.bin)
	if err != nil {
		return err
	}
	members := l.members()
	errs := make([]error, len(members))
	clients.EachAtOnce(ctx, members, l.cfg.StartTimeout, func(ctx context.Context, i int, m *Member) {
		errs[i] = tool.Restore(ctx, l.restoreArgs(m, file))
	})
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("etcdtest: restore Config.Snapshot %q for member %s with %s: "+
				"Is it a complete etcd snapshot? A truncated or altered file fails the checksum; %s. The restore said: %w",
				file, members[i].name, tool, fix, err)
		}
	}
	return nil
}

// restoreArgs are the restore flags for member m: the same name, peer URLs,
// cluster and token it starts with (flags.go), so the IDs etcd derives are
// the ones readiness expects.
func (l *local) restoreArgs(m *Member, file string) []string {
	a := []string{"snapshot", "restore", file}
	for _, f := range l.args(m) {
		for _, keep := range []string{"--name=", "--data-dir=", "--wal-dir=", "--initial-cluster=", "--initial-cluster-token=", "--initial-advertise-peer-urls="} {
			if strings.HasPrefix(f, keep) {
				a = append(a, f)
			}
		}
	}
	return a
}
