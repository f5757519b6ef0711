package newcomer

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// modulePath is this repository's module, the one a user's module requires.
const modulePath = "github.com/etcd-test-cluster/etcd-test-cluster"

// checkoutRoot returns the directory of this checkout's go.mod, found upwards
// from the test's working directory (the package directory under go test).
func checkoutRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && moduleLine(data) == modulePath {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod of %s above the working directory", modulePath)
		}
		dir = parent
	}
}

func moduleLine(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// tempModule is a module of its own in a temporary directory, outside this
// repository, whose go commands resolve this module to the checkout.
type tempModule struct {
	t    *testing.T
	dir  string
	root string // the checkout
	ctx  context.Context
}

// newTempModule returns an empty directory for a module; nothing runs yet.
// ctx bounds every command it runs: the test's deadline less a minute for
// the report, or 10 minutes without one.
func newTempModule(t *testing.T) *tempModule {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
	deadline, ok := t.Deadline()
	if !ok {
		deadline = time.Now().Add(10 * time.Minute)
	} else {
		deadline = deadline.Add(-time.Minute)
	}
	ctx, cancel := context.WithDeadline(t.Context(), deadline)
	t.Cleanup(cancel)
	return &tempModule{t: t, dir: t.TempDir(), root: checkoutRoot(t), ctx: ctx}
}

// replaceThis makes the module require this module from the checkout, as
// `go get github.com/etcd-test-cluster/etcd-test-cluster@latest` would from
// the module proxy.
func (m *tempModule) replaceThis() {
	m.t.Helper()
	m.run("go", "mod", "edit",
		"-require="+modulePath+"@v0.0.0-00010101000000-000000000000",
		"-replace="+modulePath+"="+m.root)
}

// version returns the version of mod this checkout's go.mod selects: the one
// the temp module pins where a user's command says @latest, so the check
// does not change under us when a dependency releases.
func (m *tempModule) version(mod string) string {
	m.t.Helper()
	cmd := exec.CommandContext(m.ctx, "go", "list", "-m", "-f", "{{.Version}}", mod)
	cmd.Dir = m.root
	cmd.Env = m.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		m.t.Fatalf("go list -m %s in %s: %v\n%s", mod, m.root, err, out)
	}
	return strings.TrimSpace(string(out))
}

// write creates a file of the module.
func (m *tempModule) write(name, content string) {
	m.t.Helper()
	path := filepath.Join(m.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		m.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		m.t.Fatal(err)
	}
}

// run runs a command in the module and fails the test with its output if
// it fails. It returns the combined output.
func (m *tempModule) run(name string, args ...string) string {
	m.t.Helper()
	out, err := m.try(name, args...)
	if err != nil {
		m.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func (m *tempModule) try(name string, args ...string) (string, error) {
	m.t.Helper()
	start := time.Now()
	cmd := exec.CommandContext(m.ctx, name, args...)
	cmd.Dir = m.dir
	cmd.Env = m.env()
	cmd.WaitDelay = 10 * time.Second // a child holding the pipes open must not hang the test
	out, err := cmd.CombinedOutput()
	m.t.Logf("%s %s (%v)", name, strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	return string(out), err
}

// env is the test's environment with the go command pointed at the temp
// module alone: no workspace, and module resolution allowed (the temp
// module's go.sum starts empty). The user cache dir is the test's, so the
// managed etcd build is the one already made.
func (m *tempModule) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOFLAGS=") && !strings.HasPrefix(kv, "GOWORK=") {
			env = append(env, kv)
		}
	}
	return append(env, "GOFLAGS=-mod=mod", "GOWORK=off")
}
