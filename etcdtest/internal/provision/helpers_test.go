package provision

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeEtcd writes an executable shell script at dir/name that prints
// output for any arguments, the way the etcdtest bad-input specs fake
// binaries; it returns the script's path.
func fakeEtcd(t *testing.T, dir, name, output string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	// printf is a shell builtin: the fake works with any PATH.
	script := "#!/bin/sh\nprintf '%s\\n' '" + strings.ReplaceAll(output, "'", `'\''`) + "'\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// etcdOutput is what "etcd --version" prints for release v.
func etcdOutput(v string) string {
	return "etcd Version: " + v + "\nGit SHA: 0000000\nGo Version: go1.25\nGo OS/Arch: linux/amd64"
}

// isolate gives the test its own user cache dir and an environment that
// names neither a binary nor a version, so nothing outside it is found.
func isolate(t *testing.T) (cache string) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, "cache"))
	t.Setenv(EnvBinary, "")
	t.Setenv(EnvVersion, "")
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	return cache
}

// cached puts a fake etcd of release ver where a managed build of it is
// cached, and returns its path.
func cached(t *testing.T, cache, ver string) string {
	t.Helper()
	return fakeEtcd(t, cacheDir(cache, "etcd", ver), "etcd", etcdOutput(ver[1:]))
}
