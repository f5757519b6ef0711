package provision

import (
	"context"
	"fmt"
	"os"
)

// The names etcdtest documents for its users (etcdtest.EnvBinary,
// etcdtest.EnvVersion, etcdtest.DefaultVersion); they must agree.
const (
	// EnvBinary names an etcd executable to use instead of a managed build.
	EnvBinary = "ETCDTEST_BINARY"
	// EnvVersion names the etcd release of the managed build.
	EnvVersion = "ETCDTEST_VERSION"
	// DefaultVersion is the release built when nothing names one; its
	// go.mod and go.sum are in pinned/.
	DefaultVersion = "v3.7.3"
)

// Binary is a resolved etcd executable and the version it reports.
type Binary struct {
	Path    string
	Version Version
}

// Resolve returns the etcd executable binary and version resolve to, in
// the documented order: binary (Config.Binary), else $ETCDTEST_BINARY, else
// a managed build of version, else of $ETCDTEST_VERSION, else of
// DefaultVersion. Its errors name where the failing value came from.
func Resolve(ctx context.Context, binary, version string) (Binary, error) {
	path, source := binary, "Config.Binary"
	if path == "" {
		path, source = os.Getenv(EnvBinary), "$"+EnvBinary
	}
	if path != "" {
		return Inspect(ctx, path, source)
	}
	ver, source := version, "Config.Version"
	if ver == "" {
		ver, source = os.Getenv(EnvVersion), "$"+EnvVersion
	}
	if ver == "" {
		ver, source = DefaultVersion, "the default"
	}
	v, err := ParseVersion(ver)
	if err != nil {
		return Binary{}, fmt.Errorf("etcdtest: %s: %w", source, err)
	}
	if !v.AtLeast(3, 5) {
		return Binary{}, fmt.Errorf("etcdtest: %s asks for etcd %s, but managed builds start at v3.5 (go.etcd.io/etcd/server/v3); "+
			"for etcd 3.4 install it (Debian: apt-get install etcd-server) and set %s=/usr/bin/etcd", source, canonicalVersion(ver), EnvBinary)
	}
	return Managed(ctx, ver)
}

// Managed returns the managed build of release ver (3.5 or later),
// building it if needed, checked like any other executable.
func Managed(ctx context.Context, ver string) (Binary, error) {
	path, err := Tool(ctx, "etcd", "go.etcd.io/etcd/server/v3", canonicalVersion(ver))
	if err != nil {
		return Binary{}, err
	}
	return Inspect(ctx, path, "managed build")
}
