package etcdtest

import (
	"context"

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
// first build takes about 2 minutes on 2 cores and prints one line to stderr
// saying so; concurrent processes wait on a file lock and build once.
//
// With cfg.Failpoints the managed build is the failpoint build (see
// Config.Failpoints), cached apart in etcd-failpoints-<version>-gofail-<gofail
// version>-<os>-<arch>, and a given executable must have failpoints.
//
// Whatever the source, the executable is checked to be etcd 3.4 or later.
func Provision(ctx context.Context, cfg Config) (string, error) {
	b, err := provision.Resolve(ctx, cfg.Binary, cfg.Version, cfg.Failpoints)
	if err != nil {
		return "", err
	}
	return b.Path, nil
}

// etcdBinary is a resolved etcd executable and its detected version.
type etcdBinary = provision.Binary

// version is a parsed etcd release number.
type version = provision.Version
