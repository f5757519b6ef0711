package provision

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/host"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proc"
)

// pinned holds <ver>.go.mod and .go.sum for etcd builds and
// <tool>-<ver>.go.mod and .go.sum for other tools: with them a build is
// reproducible and checksum-verified; without them it resolves through the
// Go module proxy.
//
//go:embed pinned
var pinned embed.FS

// buildMu serialises managed builds inside one process; the file lock in
// Tool serialises them across processes.
var buildMu sync.Mutex

// Tool returns the cached executable name (etcd, etcdutl) of etcd release
// ver ("v3.7.3"), compiled from the Go package pkg, building it if needed.
func Tool(ctx context.Context, name, pkg, ver string) (string, error) {
	notice := func(dir string) string { return buildNotice(name, pkg, ver, dir) }
	return cachedBuild(ctx, name, ver, name, notice, func(ctx context.Context, bin string) error {
		return build(ctx, name, pkg, ver, bin)
	})
}

// cachedBuild returns the executable exe of cache entry key at release
// ver, building it with buildTo (which writes bin) if it is not cached: once per
// machine, under the entry's file lock, with notice's one line on stderr.
// A failed build leaves neither an executable nor its directory behind;
// the lock file stays, since removing a lock others may wait on would let
// two processes build at once.
func cachedBuild(ctx context.Context, key, ver, exe string, notice func(dir string) string, buildTo func(ctx context.Context, bin string) error) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("etcdtest: no user cache dir for the managed %s build (%v): set $HOME or $XDG_CACHE_HOME, or set %s to an etcd executable", key, err, EnvBinary)
	}
	dir := cacheDir(cache, key, ver)
	bin := filepath.Join(dir, exe)
	if isFile(bin) {
		return bin, nil
	}

	buildMu.Lock()
	defer buildMu.Unlock()
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("etcdtest: create the %s build cache %s: %w; set %s to an etcd executable instead", key, dir, err, EnvBinary)
	}
	unlock, err := host.LockFile(ctx, dir+".lock")
	if err != nil {
		return "", fmt.Errorf("etcdtest: wait for another process's %s %s build: %w", key, ver, err)
	}
	defer unlock()
	if isFile(bin) { // another process built it while we waited
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("etcdtest: create the %s build cache %s: %w; set %s to an etcd executable instead", key, dir, err, EnvBinary)
	}
	fmt.Fprintln(os.Stderr, notice(dir))
	if err := buildTo(ctx, bin); err != nil {
		os.Remove(dir) // only if empty: a failed build installs nothing
		return "", err
	}
	return bin, nil
}

// cacheDir is where the build of tool name at release ver lives under the
// user cache dir cache: one directory per tool, version, OS and
// architecture, so a shared home serves every machine that mounts it.
func cacheDir(cache, name, ver string) string {
	return filepath.Join(cache, "etcd-test-cluster", fmt.Sprintf("%s-%s-%s-%s", name, ver, runtime.GOOS, runtime.GOARCH))
}

// buildNotice is the one line a build prints: a test that stalls for a
// couple of minutes on its first run says why, and how to skip the wait.
func buildNotice(name, pkg, ver, dir string) string {
	return fmt.Sprintf("etcdtest: building %s %s for %s/%s from %s (first use only, about 2 minutes on 2 cores; cached in %s; set %s to use an installed etcd instead)",
		name, ver, runtime.GOOS, runtime.GOARCH, pkg, dir, EnvBinary)
}

// build compiles package pkg of etcd release ver into bin, in a throw-away
// module outside any caller's: from the pinned go.mod and go.sum where they
// exist, else resolved through the Go module proxy.
func build(ctx context.Context, name, pkg, ver, bin string) error {
	work, err := os.MkdirTemp("", "etcdtest-build-*")
	if err != nil {
		return fmt.Errorf("etcdtest: build %s %s: %w", name, ver, err)
	}
	defer os.RemoveAll(work)

	steps, err := prepare(work, name, pkg, ver)
	if err != nil {
		return err
	}
	tmpBin := filepath.Join(work, name)
	steps = append(steps, []string{"go", "build", "-trimpath", "-o", tmpBin, pkg})

	for _, step := range steps {
		if _, err := runStep(ctx, work, name+" "+ver, step); err != nil {
			return err
		}
	}
	if err := os.Rename(tmpBin, bin); err != nil {
		return fmt.Errorf("etcdtest: install the %s %s build into %s: %w", name, ver, bin, err)
	}
	return nil
}

// buildEnv is every build step's environment: outside any workspace,
// free to resolve modules, and static.
func buildEnv() []string {
	return append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
}

// runStep runs one command of the build of what ("etcd v3.7.3") in dir
// and returns its standard output; its error says which step failed, with
// the command's output, and how to fix or avoid the build.
func runStep(ctx context.Context, dir, what string, step []string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, step[0], step[1:]...)
	cmd.Dir, cmd.Env = dir, buildEnv()
	var stdout, out bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.MultiWriter(&stdout, &out), &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("etcdtest: managed build of %s failed at %q: %v\n%s\n"+
			"Fix: check that the Go toolchain is on PATH and the Go module proxy is reachable, pick another Version, "+
			"or install etcd and set %s to its path (Debian: apt-get install etcd-server; %s=/usr/bin/etcd)",
			what, strings.Join(step, " "), err, strings.TrimSpace(proc.Tail(out.String(), 2000)), EnvBinary, EnvBinary)
	}
	return stdout.Bytes(), nil
}

// prepare writes the throw-away module into work and returns the go
// commands that complete it before the build: none with a pinned go.sum,
// go get and go mod tidy without.
func prepare(work, name, pkg, ver string) ([][]string, error) {
	tools := "//go:build tools\n\npackage build\n\nimport _ \"" + pkg + "\"\n"
	pin := pinnedName(name, ver)
	if mod, err := pinned.ReadFile(pin + ".go.mod"); err == nil {
		sum, err := pinned.ReadFile(pin + ".go.sum")
		if err != nil {
			return nil, fmt.Errorf("etcdtest: pinned go.sum of %s %s is missing from this package", name, ver)
		}
		return nil, writeFiles(work, map[string][]byte{"go.mod": mod, "go.sum": sum, "tools.go": []byte(tools)})
	}
	mod := "module etcdtest.local/build\n\ngo 1.21\n"
	if err := writeFiles(work, map[string][]byte{"go.mod": []byte(mod), "tools.go": []byte(tools)}); err != nil {
		return nil, err
	}
	tidy := []string{"go", "mod", "tidy"}
	if name != "etcd" {
		// etcdutl 3.5's graph holds an ambiguous import in a test of a
		// dependency; tidy must not fail on what the build never loads.
		tidy = append(tidy, "-e")
	}
	return [][]string{{"go", "get", pkg + "@" + ver}, tidy}, nil
}

// pinnedName is the stem of the pinned go.mod and go.sum of tool name at
// release ver: pinned/<ver> for etcd, pinned/<name>-<ver> for the others.
func pinnedName(name, ver string) string {
	if name == "etcd" {
		return "pinned/" + ver
	}
	return "pinned/" + name + "-" + ver
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
