package newcomer

import (
	"os"
	"strings"
	"testing"
)

// TestNewcomerPath follows README.md's "Use it in your module" section in a
// new module outside this repository: the newcomer:setup commands, then the
// files of the newcomer:<file> blocks, then the newcomer:run commands, which
// run the suite with `go tool ginkgo -p` and `go test`. It differs from what
// a user types in two ways only, both in go get: this module comes from the
// checkout (a replace directive) instead of the module proxy, and @latest of
// any other module is the version this repository's go.mod selects. The
// parallel process count is pinned to 2, as CI machines differ.
//
// The etcd binary is the one the user cache dir already holds (a managed
// build is shared by every module on the machine), so after the first run
// this takes the time of two module resolutions, two compiles and two suites.
func TestNewcomerPath(t *testing.T) {
	if testing.Short() {
		t.Skip("boots etcd clusters in a new module (-short)")
	}
	if os.Getenv("ETCDTEST_NEWCOMER") != "1" {
		t.Skip("set ETCDTEST_NEWCOMER=1 to follow the README's newcomer path (a step of .ci/run)")
	}
	var setup, run []string
	files := map[string]string{}
	for _, b := range readmeBlocks(t) {
		arg, ok := b.markerArg("newcomer")
		switch {
		case !ok:
		case arg == "setup":
			setup = append(setup, commands(t, b)...)
		case arg == "run":
			run = append(run, commands(t, b)...)
		default:
			files[arg] = b.text
		}
	}
	if len(setup) == 0 || len(run) == 0 || len(files) == 0 {
		t.Fatalf("README.md: want newcomer:setup, newcomer:run and newcomer:<file> blocks, got %d setup commands, %d run commands, files %v",
			len(setup), len(run), files)
	}

	m := newTempModule(t)
	for _, c := range setup {
		m.runReadme(c)
	}
	for name, text := range files {
		m.write(name, text)
	}
	var ranGinkgo bool
	for _, c := range run {
		ranGinkgo = ranGinkgo || strings.HasPrefix(c, "go tool ginkgo")
		out := m.runReadme(c)
		if strings.HasPrefix(c, "go tool ginkgo") || strings.HasPrefix(c, "go test") {
			t.Logf("%s:\n%s", c, out)
		}
	}
	if !ranGinkgo {
		t.Error("the newcomer:run block never runs go tool ginkgo")
	}
}

// commands returns the commands of a shell block: its lines without comments
// and blank lines. Each must be a go command: the test runs them without a
// shell.
func commands(t *testing.T, b block) []string {
	t.Helper()
	var cmds []string
	for i, line := range strings.Split(b.text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "go ") {
			t.Fatalf("README.md:%d: a newcomer block runs go commands only, without a shell: %q", b.line+i, line)
		}
		cmds = append(cmds, line)
	}
	return cmds
}

// runReadme runs a command of the README in the module, with go get made
// reproducible (see TestNewcomerPath), and ginkgo's process count pinned
// and its colours off for the test log.
func (m *tempModule) runReadme(command string) string {
	m.t.Helper()
	args := strings.Fields(command)
	switch {
	case strings.HasPrefix(command, "go get "):
		var get []string
		for _, a := range args[2:] {
			mod, ver, versioned := strings.Cut(a, "@")
			switch {
			case strings.HasPrefix(a, "-"):
				get = append(get, a)
			case mod == modulePath:
				if ver != "latest" {
					m.t.Fatalf("README: go get %s: the newcomer path gets @latest", a)
				}
				m.replaceThis()
			case !versioned || ver == "latest":
				get = append(get, mod+"@"+m.version(moduleOf(mod)))
			default:
				get = append(get, a)
			}
		}
		if len(get) == 0 || len(get) == 1 && strings.HasPrefix(get[0], "-") {
			return ""
		}
		args = append(args[:2], get...)
	case strings.HasPrefix(command, "go tool ginkgo "):
		args = append(args[:3], append([]string{"--procs=2", "--no-color"}, args[3:]...)...)
	}
	return m.run(args[0], args[1:]...)
}

// moduleOf returns the module of a package path among those the README's go
// get lines name.
func moduleOf(pkg string) string {
	for _, mod := range []string{"github.com/onsi/ginkgo/v2", "github.com/onsi/gomega"} {
		if pkg == mod || strings.HasPrefix(pkg, mod+"/") {
			return mod
		}
	}
	return pkg
}
