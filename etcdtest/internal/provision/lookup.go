package provision

import (
	"context"
	"fmt"
	"os"
	"strings"
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
	// Failpoints: the executable has gofail's failpoints compiled in. Set
	// only when Resolve was asked for them (or by ManagedFailpoints).
	Failpoints bool
}

// Resolve returns the etcd executable binary and version resolve to, in
// the documented order: binary (Config.Binary), else $ETCDTEST_BINARY, else
// a managed build of version, else of $ETCDTEST_VERSION, else of
// DefaultVersion. With failpoints (Config.Failpoints) the managed build is
// the failpoint build, and a given executable must have failpoints. Its
// errors name where the failing value came from.
func Resolve(ctx context.Context, binary, version string, failpoints bool) (Binary, error) {
	path, source := binary, "Config.Binary"
	if path == "" {
		path, source = os.Getenv(EnvBinary), "$"+EnvBinary
	}
	if path != "" {
		b, err := Inspect(ctx, path, source)
		if err != nil || !failpoints {
			return b, err
		}
		return withFailpoints(b, source)
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
	if failpoints {
		return ManagedFailpoints(ctx, ver)
	}
	return Managed(ctx, ver)
}

// withFailpoints checks that the given executable b (from source) has
// failpoints, for Config.Failpoints.
func withFailpoints(b Binary, source string) (Binary, error) {
	has, err := HasFailpoints(b.Path)
	if err != nil {
		return Binary{}, fmt.Errorf("etcdtest: Config.Failpoints: read %s %q: %w", source, b.Path, err)
	}
	if !has {
		return Binary{}, fmt.Errorf("etcdtest: Config.Failpoints is set, but %s %q (etcd %s) has no gofail failpoints compiled in: "+
			"unset %s to use the managed failpoint build of Config.Version, or build etcd with failpoints (make gofail-enable build in etcd's repository)",
			source, b.Path, b.Version, strings.TrimPrefix(source, "$"))
	}
	b.Failpoints = true
	return b, nil
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
