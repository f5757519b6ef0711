package etcdtest

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/host"
)

//go:embed pinned
var pinned embed.FS

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
// Whatever the source, the executable is checked to be etcd 3.4 or later.
func Provision(ctx context.Context, cfg Config) (string, error) {
	b, err := provision(ctx, cfg)
	if err != nil {
		return "", err
	}
	return b.path, nil
}

// etcdBinary is a resolved etcd executable and its detected version.
type etcdBinary struct {
	path    string
	version version
}

func provision(ctx context.Context, cfg Config) (etcdBinary, error) {
	path, source := cfg.Binary, "Config.Binary"
	if path == "" {
		path, source = os.Getenv(EnvBinary), "$"+EnvBinary
	}
	if path != "" {
		return inspectBinary(ctx, path, source)
	}
	ver, source := cfg.Version, "Config.Version"
	if ver == "" {
		ver, source = os.Getenv(EnvVersion), "$"+EnvVersion
	}
	if ver == "" {
		ver, source = DefaultVersion, "the default"
	}
	v, err := parseVersion(ver)
	if err != nil {
		return etcdBinary{}, fmt.Errorf("etcdtest: %s: %w", source, err)
	}
	if !v.atLeast(3, 5) {
		return etcdBinary{}, fmt.Errorf("etcdtest: %s asks for etcd %s, but managed builds start at v3.5 (go.etcd.io/etcd/server/v3); "+
			"for etcd 3.4 install it (Debian: apt-get install etcd-server) and set %s=/usr/bin/etcd", source, canonicalVersion(ver), EnvBinary)
	}
	return managedBinary(ctx, ver)
}

// managedBinary returns the managed build of release ver (3.5 or later),
// building it if needed, checked like any other executable.
func managedBinary(ctx context.Context, ver string) (etcdBinary, error) {
	path, err := managedBuild(ctx, canonicalVersion(ver))
	if err != nil {
		return etcdBinary{}, err
	}
	return inspectBinary(ctx, path, "managed build")
}

var (
	inspectMu    sync.Mutex
	inspectCache = map[string]inspected{}
)

type inspected struct {
	size    int64
	mtime   time.Time
	version version
}

var etcdVersionRE = regexp.MustCompile(`(?m)^etcd Version: (\S+)`)

// inspectBinary checks that path is an executable etcd of a supported
// version. Results are cached per path, size and modification time.
func inspectBinary(ctx context.Context, path, source string) (etcdBinary, error) {
	fix := fmt.Sprintf("point %s at an etcd executable (3.4 or later), or unset Config.Binary and $%s to use a managed build", source, EnvBinary)
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return etcdBinary{}, fmt.Errorf("etcdtest: etcd binary %q (from %s) does not exist: %s", path, source, fix)
	case err != nil:
		return etcdBinary{}, fmt.Errorf("etcdtest: etcd binary %q (from %s): %w: %s", path, source, err, fix)
	case fi.IsDir():
		return etcdBinary{}, fmt.Errorf("etcdtest: etcd binary %q (from %s) is a directory, not an executable: %s", path, source, fix)
	case fi.Mode()&0o111 == 0:
		return etcdBinary{}, fmt.Errorf("etcdtest: etcd binary %q (from %s) is not executable (mode %v): chmod +x it, or %s", path, source, fi.Mode().Perm(), fix)
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}

	inspectMu.Lock()
	c, ok := inspectCache[path]
	inspectMu.Unlock()
	if ok && c.size == fi.Size() && c.mtime.Equal(fi.ModTime()) {
		return etcdBinary{path: path, version: c.version}, nil
	}

	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, path, "--version")
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	runErr := cmd.Run()
	m := etcdVersionRE.FindSubmatch(out.Bytes())
	if m == nil {
		detail := strings.TrimSpace(tail(out.String(), 400))
		if runErr != nil {
			detail = fmt.Sprintf("%v; output: %q", runErr, detail)
		} else {
			detail = fmt.Sprintf("output: %q", detail)
		}
		return etcdBinary{}, fmt.Errorf("etcdtest: %q (from %s) is not etcd: \"%s --version\" did not print \"etcd Version: ...\" (%s): %s", path, source, filepath.Base(path), detail, fix)
	}
	v, err := parseVersion(string(m[1]))
	if err != nil {
		return etcdBinary{}, fmt.Errorf("etcdtest: %q (from %s) reports an unreadable version %q: %s", path, source, m[1], fix)
	}
	if !v.atLeast(3, 4) || v.Major > 3 {
		return etcdBinary{}, fmt.Errorf("etcdtest: %q (from %s) is etcd %s; supported are 3.4, 3.5, 3.6 and 3.7: %s", path, source, v, fix)
	}
	inspectMu.Lock()
	inspectCache[path] = inspected{size: fi.Size(), mtime: fi.ModTime(), version: v}
	inspectMu.Unlock()
	return etcdBinary{path: path, version: v}, nil
}

// buildMu serialises managed builds inside one process; the file lock in
// managedBuild serialises them across processes.
var buildMu sync.Mutex

// managedBuild returns the cached executable of etcd ver, building it if needed.
func managedBuild(ctx context.Context, ver string) (string, error) {
	return managedTool(ctx, "etcd", "go.etcd.io/etcd/server/v3", ver)
}

// managedTool returns the cached executable name (etcd, etcdutl) of etcd
// release ver, compiled from the Go package pkg, building it if needed.
func managedTool(ctx context.Context, name, pkg, ver string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("etcdtest: no user cache dir for the managed %s build (%v): set $HOME or $XDG_CACHE_HOME, or set %s to an etcd executable", name, err, EnvBinary)
	}
	dir := filepath.Join(cache, "etcd-test-cluster", fmt.Sprintf("%s-%s-%s-%s", name, ver, runtime.GOOS, runtime.GOARCH))
	bin := filepath.Join(dir, name)
	if isFile(bin) {
		return bin, nil
	}

	buildMu.Lock()
	defer buildMu.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("etcdtest: create the %s build cache %s: %w; set %s to an etcd executable instead", name, dir, err, EnvBinary)
	}
	unlock, err := host.LockFile(ctx, dir+".lock")
	if err != nil {
		return "", fmt.Errorf("etcdtest: wait for another process's %s %s build: %w", name, ver, err)
	}
	defer unlock()
	if isFile(bin) { // another process built it while we waited
		return bin, nil
	}

	fmt.Fprintf(os.Stderr, "etcdtest: building %s %s for %s/%s from %s (first use only, about a minute; cached in %s; set %s to use an installed etcd instead)\n",
		name, ver, runtime.GOOS, runtime.GOARCH, pkg, dir, EnvBinary)
	if err := buildTool(ctx, name, pkg, ver, bin); err != nil {
		return "", err
	}
	return bin, nil
}

// buildTool compiles package pkg of etcd release ver into bin, in a
// throw-away module: from the go.mod and go.sum pinned in this package as
// pinned/<ver>.go.mod (etcd) or pinned/<name>-<ver>.go.mod (other tools)
// where they exist, else resolved through the Go module proxy.
func buildTool(ctx context.Context, name, pkg, ver, bin string) error {
	work, err := os.MkdirTemp("", "etcdtest-build-*")
	if err != nil {
		return fmt.Errorf("etcdtest: build %s %s: %w", name, ver, err)
	}
	defer os.RemoveAll(work)

	tools := "//go:build tools\n\npackage build\n\nimport _ \"" + pkg + "\"\n"
	pin := "pinned/" + ver
	if name != "etcd" {
		pin = "pinned/" + name + "-" + ver
	}
	steps := [][]string{}
	if mod, err := pinned.ReadFile(pin + ".go.mod"); err == nil {
		sum, err := pinned.ReadFile(pin + ".go.sum")
		if err != nil {
			return fmt.Errorf("etcdtest: pinned go.sum of %s %s is missing from this package", name, ver)
		}
		if err := writeFiles(work, map[string][]byte{"go.mod": mod, "go.sum": sum, "tools.go": []byte(tools)}); err != nil {
			return err
		}
	} else {
		mod := "module etcdtest.local/build\n\ngo 1.21\n"
		if err := writeFiles(work, map[string][]byte{"go.mod": []byte(mod), "tools.go": []byte(tools)}); err != nil {
			return err
		}
		tidy := []string{"go", "mod", "tidy"}
		if name != "etcd" {
			// etcdutl 3.5's graph holds an ambiguous import in a test of a
			// dependency; tidy must not fail on what the build never loads.
			tidy = append(tidy, "-e")
		}
		steps = append(steps, []string{"go", "get", pkg + "@" + ver}, tidy)
	}
	tmpBin := filepath.Join(work, name)
	steps = append(steps, []string{"go", "build", "-trimpath", "-o", tmpBin, pkg})

	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	for _, step := range steps {
		cmd := exec.CommandContext(ctx, step[0], step[1:]...)
		cmd.Dir, cmd.Env = work, env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("etcdtest: managed build of %s %s failed at %q: %v\n%s\n"+
				"Fix: check that the Go toolchain is on PATH and the Go module proxy is reachable, pick another Version, "+
				"or install etcd and set %s to its path (Debian: apt-get install etcd-server; %s=/usr/bin/etcd)",
				name, ver, strings.Join(step, " "), err, strings.TrimSpace(tail(out.String(), 2000)), EnvBinary, EnvBinary)
		}
	}
	if err := os.Rename(tmpBin, bin); err != nil {
		return fmt.Errorf("etcdtest: install the %s %s build into %s: %w", name, ver, bin, err)
	}
	return nil
}

func writeFiles(dir string, files map[string][]byte) error {
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("etcdtest: prepare the etcd build: %w", err)
		}
	}
	return nil
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
