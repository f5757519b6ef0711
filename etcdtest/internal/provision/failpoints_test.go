package provision

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The failpoint build is cached apart from the plain one, keyed by the
// etcd and the gofail versions.
func TestTheFailpointBuildIsCachedApartByEtcdAndGofailVersion(t *testing.T) {
	plain := cacheDir("/c", "etcd", "v3.7.3")
	fp := cacheDir("/c", failpointsKey, "v3.7.3-gofail-"+GofailVersion)
	if plain == fp {
		t.Fatalf("plain and failpoint builds share %s", fp)
	}
	if !strings.Contains(fp, "v3.7.3") || !strings.Contains(fp, GofailVersion) {
		t.Errorf("failpoint cache dir %s does not name both versions", fp)
	}
}

// DefaultVersion's failpoint build is pinned: no go get, no tidy, and the
// pinned go.mod requires the server and gofail and replaces the server
// with the rewritten copy.
func TestTheDefaultFailpointBuildIsPinned(t *testing.T) {
	dir := t.TempDir()
	steps, err := prepareWrapper(dir, DefaultVersion)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 0 {
		t.Errorf("a pinned failpoint build runs %v before go build; want nothing", steps)
	}
	mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"go.etcd.io/etcd/server/v3 " + DefaultVersion, "go.etcd.io/gofail " + GofailVersion, "replace go.etcd.io/etcd/server/v3 => ../server"} {
		if !strings.Contains(string(mod), w) {
			t.Errorf("pinned failpoint go.mod lacks %q:\n%s", w, mod)
		}
	}
	if pinnedServerSum(DefaultVersion) == "" {
		t.Error("no pinned checksum of the server module to check the copied source against")
	}
	if pinnedServerSum("v3.5.0") != "" {
		t.Error("an unpinned release has a pinned checksum")
	}
}

// Another release resolves gofail through the proxy.
func TestAnUnpinnedFailpointBuildGetsGofailAndTidies(t *testing.T) {
	dir := t.TempDir()
	steps, err := prepareWrapper(dir, "v3.6.16")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"go", "get", "go.etcd.io/gofail@" + GofailVersion}, {"go", "mod", "tidy"}}
	if !slices.EqualFunc(steps, want, slices.Equal) {
		t.Errorf("steps %q; want %q", steps, want)
	}
	mod, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	if !strings.Contains(string(mod), "require go.etcd.io/etcd/server/v3 v3.6.16") || !strings.Contains(string(mod), "=> ../server") {
		t.Errorf("go.mod:\n%s", mod)
	}
	if _, err := os.Stat(filepath.Join(dir, "main.go")); err != nil {
		t.Errorf("no wrapper main: %v", err)
	}
}

// Packages are found by their "// gofail:" comments, tests aside.
func TestFailpointDirsAreThePackagesWithGofailComments(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"storage/wal/wal.go":        "package wal\n// gofail: var walBeforeSync struct{}\n",
		"storage/backend/b.go":      "package backend\nfunc f() {\n\t// gofail: var beforeCommit struct{}\n}\n",
		"etcdserver/x_test.go":      "package etcdserver\n// gofail: var onlyInATest struct{}\n",
		"etcdserver/server.go":      "package etcdserver\n// gofail is mentioned, but no site\n",
		"mvcc/README.md":            "// gofail: var notGo struct{}\n",
		"lease/leasehttp/http.go":   "package leasehttp\n\t\t// gofail: var beforeServeHTTPLeaseRenew struct{}\n",
		"lease/leasehttp/other.go":  "package leasehttp\n",
		"storage/mvcc/kvstore.go":   "package mvcc\n",
		"storage/mvcc/kvstore2.go":  "package mvcc\n//gofail: var noSpace struct{}\n",
		"storage/wal/wal_second.go": "package wal\n// gofail: var walAfterSync struct{}\n",
	}
	for name, src := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := FailpointDirs(root)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, d := range []string{"lease/leasehttp", "storage/backend", "storage/wal"} {
		want = append(want, filepath.Join(root, d))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FailpointDirs = %q; want %q", got, want)
	}
}

// A binary has failpoints when it links gofail's runtime; the check reads
// the file and finds the package path across a chunk boundary too.
func TestHasFailpointsFindsTheGofailRuntime(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pad := make([]byte, 1<<20-10) // the needle straddles the first chunk's end
	for _, tc := range []struct {
		name string
		data []byte
		want bool
	}{
		{"with", append(append([]byte("\x7fELF"), pad...), "go.etcd.io/gofail/runtime.(*Failpoint).Acquire"...), true},
		{"plain", append([]byte("\x7fELF go.etcd.io/etcd/server/v3/etcdmain.Main "), pad...), false},
		{"near miss", []byte("go.etcd.io/gofail is mentioned; go.etcd.io/gofail/code.Failpoint"), false},
		{"empty", nil, false},
	} {
		got, err := HasFailpoints(write(tc.name, tc.data))
		if err != nil || got != tc.want {
			t.Errorf("%s: HasFailpoints = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	if _, err := HasFailpoints(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file has an answer")
	}
}

// Config.Failpoints with a given binary that lacks them names the binary,
// where it came from and the fix.
func TestAGivenBinaryWithoutFailpointsIsRefused(t *testing.T) {
	isolate(t)
	bin := fakeEtcd(t, t.TempDir(), "etcd", etcdOutput("3.6.16"))
	_, err := Resolve(context.Background(), bin, "", true)
	for _, w := range []string{"Config.Failpoints is set", `Config.Binary "` + bin, "has no gofail failpoints", "unset Config.Binary", "make gofail-enable"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not say %q", err, w)
		}
	}
	b, err := Resolve(context.Background(), bin, "", false)
	if err != nil || b.Failpoints {
		t.Errorf("without Config.Failpoints: %+v, %v; want the binary, no failpoints", b, err)
	}
	// The near miss: a binary with failpoints is taken as it is.
	script, _ := os.ReadFile(bin)
	withFP := filepath.Join(t.TempDir(), "etcd")
	if err := os.WriteFile(withFP, append(script, "# go.etcd.io/gofail/runtime.Enable\n"...), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvBinary, withFP)
	if b, err := Resolve(context.Background(), "", "", true); err != nil || !b.Failpoints || b.Path != withFP {
		t.Errorf("$ETCDTEST_BINARY with failpoints: %+v, %v", b, err)
	}
}

// A failed failpoint build prints its one notice, names the step, and
// leaves neither an executable nor its cache directory.
func TestAFailedFailpointBuildLeavesNothingInTheCache(t *testing.T) {
	cache := isolate(t)
	bin := t.TempDir()
	fakeGo := "#!/bin/sh\necho 'reading go.etcd.io/etcd/server/v3@v3.5.99: 404 Not Found' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(fakeGo), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	stderr := captureStderr(t)
	_, err := Resolve(context.Background(), "", "v3.5.99", true)
	for _, w := range []string{`managed build of etcd v3.5.99 with failpoints failed at "go mod download -json go.etcd.io/etcd/server/v3@v3.5.99"`, "404 Not Found", "Fix:"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not say %q", err, w)
		}
	}
	dir := cacheDir(cache, failpointsKey, "v3.5.99-gofail-"+GofailVersion)
	if got := stderr(); got != failpointsNotice("v3.5.99", dir)+"\n" {
		t.Errorf("stderr %q; want the one notice", got)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("a failed build left %s (%v)", dir, err)
	}
}
