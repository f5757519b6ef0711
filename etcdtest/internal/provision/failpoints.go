package provision

// The failpoint build: etcd's server module at one release with gofail's
// failpoints compiled in. The module comes from the module cache (read-only
// there), so it is copied into a throw-away directory; "gofail enable"
// rewrites the "// gofail:" comments of every package that has them into
// code; a wrapper module beside the copy replaces the server module with it
// and builds a main that calls etcdmain.Main. gofail is a dependency of that
// wrapper only, never of this module.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proc"
)

// GofailVersion is the gofail release the failpoint build compiles in
// (go.etcd.io/gofail, from the Go module proxy).
const GofailVersion = "v0.2.0"

// failpointsKey names the failpoint build's cache entries, apart from the
// plain build's: etcd-failpoints-<ver>-gofail-<gofail>-<os>-<arch>.
const failpointsKey = "etcd-failpoints"

// ManagedFailpoints returns the managed failpoint build of release ver
// (3.5 or later), building it if needed, checked like any other executable.
func ManagedFailpoints(ctx context.Context, ver string) (Binary, error) {
	ver = canonicalVersion(ver)
	notice := func(dir string) string { return failpointsNotice(ver, dir) }
	path, err := cachedBuild(ctx, failpointsKey, ver+"-gofail-"+GofailVersion, "etcd", notice, func(ctx context.Context, bin string) error {
		return buildFailpoints(ctx, ver, bin)
	})
	if err != nil {
		return Binary{}, err
	}
	b, err := Inspect(ctx, path, "managed failpoint build")
	b.Failpoints = err == nil
	return b, err
}

// failpointsNotice is the one line the failpoint build prints.
func failpointsNotice(ver, dir string) string {
	return fmt.Sprintf("etcdtest: building etcd %s with gofail %s failpoints for %s/%s (Config.Failpoints; first use only, about a minute; cached in %s)",
		ver, GofailVersion, runtime.GOOS, runtime.GOARCH, dir)
}

// buildFailpoints compiles etcd release ver with failpoints into bin.
func buildFailpoints(ctx context.Context, ver, bin string) error {
	what := "etcd " + ver + " with failpoints"
	work, err := os.MkdirTemp("", "etcdtest-fpbuild-*")
	if err != nil {
		return fmt.Errorf("etcdtest: build %s: %w", what, err)
	}
	defer os.RemoveAll(work)
	server, wrapper := filepath.Join(work, "server"), filepath.Join(work, "etcdfp")

	out, err := runStep(ctx, work, what, []string{"go", "mod", "download", "-json", "go.etcd.io/etcd/server/v3@" + ver})
	if err != nil {
		return err
	}
	var mod struct{ Dir, Sum string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return fmt.Errorf("etcdtest: build %s: go mod download printed no module directory (%v): %s", what, err, proc.Tail(string(out), 400))
	}
	if want := pinnedServerSum(ver); want != "" && mod.Sum != want {
		return fmt.Errorf("etcdtest: build %s: the module cache's go.etcd.io/etcd/server/v3@%s has checksum %s, but the pinned go.sum says %s: "+
			"the module cache is damaged (go clean -modcache, then try again)", what, ver, mod.Sum, want)
	}
	if err := copyTree(mod.Dir, server); err != nil {
		return fmt.Errorf("etcdtest: build %s: copy the server module out of the module cache: %w", what, err)
	}
	dirs, err := FailpointDirs(server)
	if err != nil || len(dirs) == 0 {
		return fmt.Errorf("etcdtest: build %s: no package of go.etcd.io/etcd/server/v3@%s has a \"// gofail:\" comment (%v): this release has no failpoints", what, ver, err)
	}
	gobin := filepath.Join(work, "bin")
	steps := []struct {
		dir  string
		args []string
	}{
		{work, []string{"go", "install", "go.etcd.io/gofail@" + GofailVersion}},
		{server, append([]string{filepath.Join(gobin, "gofail"), "enable"}, dirs...)},
	}
	for _, s := range steps {
		if s.dir == work {
			s.args = append([]string{"env", "GOBIN=" + gobin}, s.args...)
		}
		if _, err := runStep(ctx, s.dir, what, s.args); err != nil {
			return err
		}
	}
	more, err := prepareWrapper(wrapper, ver)
	if err != nil {
		return err
	}
	tmpBin := filepath.Join(work, "etcd")
	for _, step := range append(more, []string{"go", "build", "-trimpath", "-o", tmpBin, "."}) {
		if _, err := runStep(ctx, wrapper, what, step); err != nil {
			return err
		}
	}
	if err := os.Rename(tmpBin, bin); err != nil {
		return fmt.Errorf("etcdtest: install the %s build into %s: %w", what, bin, err)
	}
	return nil
}

// pinnedServerSum is the checksum the plain build's pinned go.sum gives
// the server module at ver, "" where ver is not pinned: the failpoint
// build's copy replaces the module, so its own go.sum cannot check it.
func pinnedServerSum(ver string) string {
	sum, err := pinned.ReadFile(pinnedName("etcd", ver) + ".go.sum")
	if err != nil {
		return ""
	}
	prefix := "go.etcd.io/etcd/server/v3 " + ver + " "
	for _, line := range strings.Split(string(sum), "\n") {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			return rest
		}
	}
	return ""
}

// wrapperMain is the failpoint build's main package.
const wrapperMain = `package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
`

// prepareWrapper writes the wrapper module into dir, from the pinned
// go.mod and go.sum where release ver has them (pinned/etcd-failpoints-<ver>),
// and returns the go commands that complete it before the build: none
// when pinned, go get of gofail and go mod tidy when not.
func prepareWrapper(dir, ver string) ([][]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("etcdtest: prepare the failpoint build: %w", err)
	}
	files := map[string][]byte{"main.go": []byte(wrapperMain)}
	pin := "pinned/" + failpointsKey + "-" + ver
	if mod, err := pinned.ReadFile(pin + ".go.mod"); err == nil {
		sum, err := pinned.ReadFile(pin + ".go.sum")
		if err != nil {
			return nil, fmt.Errorf("etcdtest: pinned go.sum of the failpoint build of %s is missing from this package", ver)
		}
		files["go.mod"], files["go.sum"] = mod, sum
		return nil, writeFiles(dir, files)
	}
	files["go.mod"] = []byte(wrapperGoMod(ver))
	if err := writeFiles(dir, files); err != nil {
		return nil, err
	}
	return [][]string{{"go", "get", "go.etcd.io/gofail@" + GofailVersion}, {"go", "mod", "tidy"}}, nil
}

// wrapperGoMod is the wrapper's go.mod before go get and tidy complete it.
// The server's own go.mod replaces its sibling modules with ../api and so
// on; Go ignores replacements outside the main module, so the copy needs
// no edit.
func wrapperGoMod(ver string) string {
	return "module etcdtest.local/etcdfp\n\ngo 1.21\n\nrequire go.etcd.io/etcd/server/v3 " + ver +
		"\n\nreplace go.etcd.io/etcd/server/v3 => ../server\n"
}

// FailpointDirs lists the directories under root with a "// gofail:"
// comment in a non-test Go file: the packages gofail enable must rewrite.
// Found by reading rather than from a list, since the layout differs
// between releases (3.5 has server/mvcc/backend and server/wal; 3.6 and
// 3.7 server/storage/...).
func FailpointDirs(root string) ([]string, error) {
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(src, []byte("// gofail:")) {
			seen[filepath.Dir(path)] = true
		}
		return nil
	})
	dirs := make([]string, 0, len(seen))
	for d := range seen {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	return dirs, err
}

// copyTree copies the directory tree src to dst, every file and directory
// writable by its owner (the module cache's copy is read-only).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

// gofailRuntime is the package path every failpoint build links: the Go
// runtime's function table names it even in a stripped executable.
var gofailRuntime = []byte("go.etcd.io/gofail/runtime.")

// linksGofail caches HasFailpoints per executable (reading 36 MB costs ~20 ms).
var linksGofail fileCache[bool]

// HasFailpoints reports whether the executable at path has gofail's
// failpoints compiled in: whether it links go.etcd.io/gofail/runtime, whose
// package path Go writes into every executable's function table. Reading
// the file (a 36 MB etcd in about 20 ms) beats starting it: gofail's HTTP
// endpoint comes up in an init function, racing a short-lived process.
func HasFailpoints(path string) (bool, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	return linksGofail.get(path, fi, func() (bool, error) { return containsBytes(path, gofailRuntime) })
}

// containsBytes reports whether the file at path contains needle, reading
// it in chunks that overlap by len(needle)-1 bytes.
func containsBytes(path string, needle []byte) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20+len(needle))
	keep := 0
	for {
		n, err := io.ReadFull(f, buf[keep:])
		if bytes.Contains(buf[:keep+n], needle) {
			return true, nil
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		keep = copy(buf, buf[keep+n-(len(needle)-1):keep+n])
	}
}
