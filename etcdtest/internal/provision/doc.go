// Package provision finds the etcd executable a cluster runs, building it
// when nobody gave one. It knows nothing of clusters: etcdtest asks it for
// a binary and gets back a path and the version that binary reports.
//
// The lookup order is explicit and documented on etcdtest.Provision:
// Config.Binary, then $ETCDTEST_BINARY, then a managed build of
// Config.Version, $ETCDTEST_VERSION or DefaultVersion.
//
//	b, err := provision.Resolve(ctx, cfg.Binary, cfg.Version)
//	if err != nil {
//		return err // names the cause and the one setting that fixes it
//	}
//	cmd := exec.Command(b.Path, flags...)
//	if b.Version.AtLeast(3, 5) { ... }
//
// A managed build compiles go.etcd.io/etcd/server/v3 (or etcdutl) at one
// release in a throw-away module, from the go.mod and go.sum pinned in
// pinned/ where the release has them, and caches the executable in the user
// cache dir, keyed by tool, version, OS and architecture. A file lock next
// to the cache entry makes concurrent test processes build it once; the one
// that builds prints a single line to stderr, since the first build takes a
// minute.
//
// Every executable, found or built, is checked with "etcd --version" to be
// etcd 3.4 to 3.7; the result is cached per path, size and modification time.
package provision
