package etcdtest

import (
	"context"
	"os"
	"strings"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/provision"
)

// Provision returns the path of the etcd executable cfg resolves to,
// building it first if needed. The lookup order is:
//
//  1. cfg.Binary;
//  2. $ETCDTEST_BINARY;
//  3. a managed build of cfg.Version, else $ETCDTEST_VERSION, else DefaultVersion.
//
// A managed build compiles go.etcd.io/etcd/server/v3 at that version with the
// Go toolchain on PATH, in a throw-away module outside the caller's module,
// and caches the executable in the user cache dir
// (os.UserCacheDir()/etcd-test-cluster/etcd-<version>-<os>-<arch>/etcd). The
// first build takes a minute on a small machine and prints one line to stderr
// saying so; concurrent processes wait on a file lock and build once.
//
// With cfg.Failpoints the managed build is the failpoint build (see
// Config.Failpoints), cached apart in etcd-failpoints-<version>-gofail-<gofail
// version>-<os>-<arch>, and a given executable must have failpoints.
//
// Whatever the source, the executable is checked to be etcd 3.4 or later.
func Provision(ctx context.Context, cfg Config) (string, error) {
	b, err := resolveBinary(ctx, cfg)
	if err != nil {
		return "", err
	}
	return b.path, nil
}

// etcdBinary is a resolved etcd executable and its detected version.
type etcdBinary struct {
	path       string
	version    version
	failpoints bool // gofail's failpoints are compiled in (checked only for Config.Failpoints)
}

// version is a parsed etcd release number.
type version = provision.Version

// resolveBinary is Provision's lookup (internal/provision), keeping the version.
func resolveBinary(ctx context.Context, cfg Config) (etcdBinary, error) {
	return binaryOf(provision.Resolve(ctx, cfg.Binary, cfg.Version, cfg.Failpoints))
}

// inspectBinary checks that path is an executable etcd of a supported
// version; source names where path came from, for the error.
func inspectBinary(ctx context.Context, path, source string) (etcdBinary, error) {
	return binaryOf(provision.Inspect(ctx, path, source))
}

// managedBinary returns the managed build of release ver (3.5 or later),
// building it if needed.
func managedBinary(ctx context.Context, ver string) (etcdBinary, error) {
	return binaryOf(provision.Managed(ctx, ver))
}

func binaryOf(b provision.Binary, err error) (etcdBinary, error) {
	if err != nil {
		return etcdBinary{}, err
	}
	return etcdBinary{path: b.Path, version: b.Version, failpoints: b.Failpoints}, nil
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// tail returns at most the last n bytes of s, starting at a line boundary where it can.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 && i < len(s)-1 {
		s = s[i+1:]
	}
	return s
}
