package provision

import (
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proc"

	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// versions caches what "etcd --version" says per executable: it costs a
// process per member start otherwise.
var versions fileCache[Version]

var etcdVersionRE = regexp.MustCompile(`(?m)^etcd Version: (\S+)`)

// Inspect checks that path is an executable etcd of a supported version
// (3.4 to 3.7). source says where path came from ("Config.Binary",
// "$ETCDTEST_BINARY", "managed build"), for the error, which also says
// how to fix it.
func Inspect(ctx context.Context, path, source string) (Binary, error) {
	fix := fmt.Sprintf("point %s at an etcd executable (3.4 or later), or unset Config.Binary and $%s to use a managed build", source, EnvBinary)
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return Binary{}, fmt.Errorf("etcdtest: etcd binary %q (from %s) does not exist: %s", path, source, fix)
	case err != nil:
		return Binary{}, fmt.Errorf("etcdtest: etcd binary %q (from %s): %w: %s", path, source, err, fix)
	case fi.IsDir():
		return Binary{}, fmt.Errorf("etcdtest: etcd binary %q (from %s) is a directory, not an executable: %s", path, source, fix)
	case fi.Mode()&0o111 == 0:
		return Binary{}, fmt.Errorf("etcdtest: etcd binary %q (from %s) is not executable (mode %v): chmod +x it, or %s", path, source, fi.Mode().Perm(), fix)
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}

	v, err := versions.get(path, fi, func() (Version, error) { return reportedVersion(ctx, path, source, fix) })
	if err != nil {
		return Binary{}, err
	}
	return Binary{Path: path, Version: v}, nil
}

// versionTimeout bounds "etcd --version", which answers in milliseconds.
var versionTimeout = 10 * time.Second

// reportedVersion runs "path --version" and reads the release it prints,
// refusing anything but etcd 3.4 to 3.7.
func reportedVersion(parent context.Context, path, source, fix string) (Version, error) {
	ctx, cancel := context.WithTimeout(parent, versionTimeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, path, "--version")
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	runErr := cmd.Run()
	m := etcdVersionRE.FindSubmatch(out.Bytes())
	if m == nil {
		detail := strings.TrimSpace(proc.Tail(out.String(), 400))
		if ctx.Err() != nil && parent.Err() == nil {
			return Version{}, fmt.Errorf("etcdtest: %q (from %s) did not answer --version within %v (killed it; output: %q), which etcd does at once: is it etcd, or does it wait for input? %s", path, source, versionTimeout, detail, fix)
		}
		if runErr != nil {
			detail = fmt.Sprintf("%v; output: %q", runErr, detail)
		} else {
			detail = fmt.Sprintf("output: %q", detail)
		}
		return Version{}, fmt.Errorf("etcdtest: %q (from %s) is not etcd: \"%s --version\" did not print \"etcd Version: ...\" (%s): %s", path, source, filepath.Base(path), detail, fix)
	}
	v, err := ParseVersion(string(m[1]))
	if err != nil {
		return Version{}, fmt.Errorf("etcdtest: %q (from %s) reports an unreadable version %q: %s", path, source, m[1], fix)
	}
	if !v.AtLeast(3, 4) || v.Major > 3 {
		return Version{}, fmt.Errorf("etcdtest: %q (from %s) is etcd %s; supported are 3.4, 3.5, 3.6 and 3.7: %s", path, source, v, fix)
	}
	return v, nil
}
