package provision

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/host"
)

// One cache entry per tool, version, OS and architecture, under the
// project's own directory of the user cache dir.
func TestCacheDirIsKeyedByToolVersionOSAndArch(t *testing.T) {
	got := cacheDir("/c", "etcd", "v3.7.3")
	want := filepath.Join("/c", "etcd-test-cluster", "etcd-v3.7.3-"+runtime.GOOS+"-"+runtime.GOARCH)
	if got != want {
		t.Fatalf("cacheDir = %s; want %s", got, want)
	}
	seen := map[string]string{}
	for _, k := range [][2]string{{"etcd", "v3.7.3"}, {"etcd", "v3.7.2"}, {"etcdutl", "v3.7.3"}, {"etcd", "v3.6.16"}} {
		d := cacheDir("/c", k[0], k[1])
		if prev, ok := seen[d]; ok {
			t.Errorf("%v and %s share the cache dir %s", k, prev, d)
		}
		seen[d] = k[0] + " " + k[1]
	}
}

// DefaultVersion builds reproducibly: its go.mod and go.sum are embedded,
// and the go.mod requires exactly that release of the server.
func TestTheDefaultVersionIsPinned(t *testing.T) {
	work := t.TempDir()
	steps, err := prepare(work, "etcd", "go.etcd.io/etcd/server/v3", DefaultVersion)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 0 {
		t.Errorf("a pinned build runs %v before go build; want nothing (no module proxy lookups)", steps)
	}
	mod, err := os.ReadFile(filepath.Join(work, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mod), "go.etcd.io/etcd/server/v3 "+DefaultVersion) {
		t.Errorf("pinned go.mod of %s does not require go.etcd.io/etcd/server/v3 %s:\n%s", DefaultVersion, DefaultVersion, mod)
	}
	for _, f := range []string{"go.sum", "tools.go"} {
		if _, err := os.Stat(filepath.Join(work, f)); err != nil {
			t.Errorf("the throw-away module has no %s: %v", f, err)
		}
	}
}

// A release without pins resolves through the module proxy; etcdutl's
// tidy tolerates its graph's ambiguous test import.
func TestAnUnpinnedReleaseResolvesThroughTheProxy(t *testing.T) {
	for _, tc := range []struct {
		name, pkg string
		want      [][]string
	}{
		{"etcd", "go.etcd.io/etcd/server/v3", [][]string{{"go", "get", "go.etcd.io/etcd/server/v3@v3.5.0"}, {"go", "mod", "tidy"}}},
		{"etcdutl", "go.etcd.io/etcd/etcdutl/v3", [][]string{{"go", "get", "go.etcd.io/etcd/etcdutl/v3@v3.5.0"}, {"go", "mod", "tidy", "-e"}}},
	} {
		steps, err := prepare(t.TempDir(), tc.name, tc.pkg, "v3.5.0")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(steps, tc.want, slices.Equal) {
			t.Errorf("%s v3.5.0: steps %q; want %q", tc.name, steps, tc.want)
		}
	}
	if got := pinnedName("etcdutl", "v3.7.3"); got != "pinned/etcdutl-v3.7.3" {
		t.Errorf("pinnedName(etcdutl) = %s", got)
	}
}

// A cached build is used as it is: no lock, no notice, no go command.
func TestACachedBuildIsUsedWithoutBuilding(t *testing.T) {
	cache := isolate(t)
	t.Setenv("PATH", t.TempDir()) // no go on PATH: a build would fail
	want := cached(t, cache, "v3.6.16")
	b, err := Managed(context.Background(), "3.6.16")
	if err != nil {
		t.Fatal(err)
	}
	if b.Path != want || b.Version != (Version{3, 6, 16}) {
		t.Errorf("Managed = %+v; want %s at v3.6.16", b, want)
	}
}

// A failed build prints its one notice, says which step failed with the
// go command's output, names the fix, leaves no entry in the cache, and
// releases the build lock.
func TestAFailedBuildNamesTheStepAndTheFix(t *testing.T) {
	cache := isolate(t)
	bin := t.TempDir()
	fakeGo := "#!/bin/sh\necho 'dial tcp: lookup proxy.golang.org: no such host' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(fakeGo), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	stderr := captureStderr(t)

	_, err := Managed(context.Background(), "v3.5.99")
	if err == nil {
		t.Fatal("a build with a failing go succeeded")
	}
	for _, w := range []string{
		`etcdtest: managed build of etcd v3.5.99 failed at "go get go.etcd.io/etcd/server/v3@v3.5.99"`,
		"no such host",
		"Fix: check that the Go toolchain is on PATH and the Go module proxy is reachable, pick another Version, " +
			"or install etcd and set ETCDTEST_BINARY to its path (Debian: apt-get install etcd-server; ETCDTEST_BINARY=/usr/bin/etcd)",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q\ndoes not contain %q", err, w)
		}
	}
	dir := cacheDir(cache, "etcd", "v3.5.99")
	if notice := stderr(); notice != buildNotice("etcd", "go.etcd.io/etcd/server/v3", "v3.5.99", dir)+"\n" {
		t.Errorf("stderr %q; want the one build notice", notice)
	}
	if isFile(filepath.Join(dir, "etcd")) {
		t.Error("a failed build left an executable in the cache")
	}
	// The empty lock file beside the entry stays: removing a lock another
	// process may be waiting on would let two processes build at once.
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("a failed build left %s in the cache (stat: %v)", dir, err)
	}
	f, ok, err := host.TryLock(dir + ".lock")
	if err != nil || !ok {
		t.Fatalf("the build lock is still held after the build failed (ok %v, err %v)", ok, err)
	}
	f.Close()
}

func TestTheBuildNoticeSaysWhyAndHowToSkipIt(t *testing.T) {
	n := buildNotice("etcd", "go.etcd.io/etcd/server/v3", "v3.7.3", "/c/etcd-test-cluster/etcd-v3.7.3")
	for _, w := range []string{"etcdtest: building etcd v3.7.3 for " + runtime.GOOS + "/" + runtime.GOARCH, "first use only, about 2 minutes on 2 cores",
		"cached in /c/etcd-test-cluster/etcd-v3.7.3", "set ETCDTEST_BINARY to use an installed etcd instead"} {
		if !strings.Contains(n, w) {
			t.Errorf("notice %q does not say %q", n, w)
		}
	}
	if strings.Contains(n, "\n") {
		t.Errorf("notice %q is more than one line", n)
	}
}

// captureStderr sends os.Stderr to a file until the test ends; the
// returned function reads what was written so far.
func captureStderr(t *testing.T) func() string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = f
	t.Cleanup(func() { os.Stderr = old; f.Close() })
	return func() string {
		b, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
}
