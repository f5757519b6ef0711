package provision

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
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
