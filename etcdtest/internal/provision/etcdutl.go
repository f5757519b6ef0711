package provision

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proc"
)

// Etcdutl returns an etcdutl of release v (3.5 or later): the one in dir
// (next to the etcd binary) when it is that release, else a managed build.
// A snapshot restore writes the data format of its own release, so a
// neighbour of another release does not do.
func Etcdutl(ctx context.Context, dir string, v Version) (string, error) {
	if utl := filepath.Join(dir, "etcdutl"); isFile(utl) && sameRelease(ctx, utl, v) {
		return utl, nil
	}
	return Tool(ctx, "etcdutl", "go.etcd.io/etcd/etcdutl/v3", v.String())
}

// sameRelease reports whether the etcdutl at path says it is release v.
func sameRelease(ctx context.Context, path string, v Version) bool {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "version").Output()
	if err != nil {
		return false
	}
	const prefix = "etcdutl version: "
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			got, err := ParseVersion(strings.TrimSpace(rest))
			return err == nil && got == v
		}
	}
	return false
}

// SnapshotTool is an executable that runs "snapshot restore".
type SnapshotTool struct {
	path string
	env  []string // extra environment (ETCDCTL_API=3 for etcdctl 3.4)
}

// String is the tool's path.
func (t SnapshotTool) String() string { return t.path }

// Restore runs the tool with args ("snapshot restore FILE --name=...");
// its error carries the end of the tool's output.
func (t SnapshotTool) Restore(ctx context.Context, args []string) error {
	cmd := exec.CommandContext(ctx, t.path, args...)
	cmd.Env = append(os.Environ(), t.env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(proc.Tail(out.String(), 1500)))
	}
	return nil
}

// Restorer finds the tool that restores snapshots for etcd binary bin:
// an etcdutl (3.5+) or etcdctl (3.4) next to the etcd binary, else for 3.5+
// a managed build of etcdutl at the binary's version.
func Restorer(ctx context.Context, bin Binary) (SnapshotTool, error) {
	v := bin.Version
	dir := filepath.Dir(bin.Path)
	if !v.AtLeast(3, 5) {
		ctl := filepath.Join(dir, "etcdctl")
		if isFile(ctl) {
			return SnapshotTool{path: ctl, env: []string{"ETCDCTL_API=3"}}, nil
		}
		return SnapshotTool{}, fmt.Errorf("etcdtest: Config.Snapshot on etcd %s needs etcdctl %s next to %s to restore it (etcdutl, which managed builds provide, starts at 3.5): "+
			"install it (Debian: apt-get install etcd-client) or use etcd 3.5 or later", v, v, bin.Path)
	}
	utl, err := Etcdutl(ctx, dir, v)
	if err != nil {
		return SnapshotTool{}, fmt.Errorf("etcdtest: Config.Snapshot needs etcdutl %s to restore it: %w", v, err)
	}
	return SnapshotTool{path: utl}, nil
}
