//go:build unix

package ginkgotest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/internal/procfs"
)

// child is one run of the child suite through the Ginkgo CLI, in a process
// group of its own, so that a signal to the group is what ^C in a terminal
// sends (the CLI and every test process get it; etcd members, which
// etcdtest puts in groups of their own, do not).
type child struct {
	session *gexec.Session
	output  *gbytes.Buffer // stdout and stderr, interleaved
	out     string         // where the child writes its records
	data    string         // Config.DataDir of the child's clusters
}

// newDataDir returns a fresh directory for a child's clusters, on tmpfs
// where there is one, as etcdtest's default is. (The child's $TMPDIR stays
// the shared one: etcdtest reserves ports across processes there.)
func newDataDir() string {
	GinkgoHelper()
	data, err := os.MkdirTemp(tmpfs(), "ginkgotest-data-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, data)
	return data
}

// tmpfs returns /dev/shm where it is usable (where etcdtest keeps data by
// default), else "" for os.TempDir.
func tmpfs() string {
	if f, err := os.CreateTemp("/dev/shm", ".ginkgotest-probe-*"); err == nil {
		f.Close()
		os.Remove(f.Name())
		return "/dev/shm"
	}
	return ""
}

// startChild runs the child suite in mode with the given Ginkgo CLI flags.
func startChild(mode, data string, flags []string, env ...string) *child {
	GinkgoHelper()
	c := &child{output: gbytes.NewBuffer(), out: GinkgoT().TempDir(), data: data}
	if !slices.ContainsFunc(flags, func(f string) bool { return strings.HasPrefix(f, "--timeout") }) {
		// Should this process die without stopping the child, the child's
		// suite ends itself, cleanup included.
		flags = append(flags, "--timeout=2m")
	}
	cmd := exec.Command(bin.Ginkgo, append(append([]string{"--no-color"}, flags...), bin.Child)...)
	cmd.Dir = c.out
	cmd.Env = append(childEnv(),
		"GINKGOTEST_MODE="+mode, "GINKGOTEST_OUT="+c.out, "GINKGOTEST_DATA="+c.data,
		etcdtest.EnvBinary+"="+bin.Etcd)
	cmd.Env = append(cmd.Env, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	w := io.MultiWriter(c.output, GinkgoWriter)
	var err error
	c.session, err = gexec.Start(cmd, w, w)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		// Only this child's own process group: the CLI and its test processes.
		syscall.Kill(-c.session.Command.Process.Pid, syscall.SIGKILL)
		c.session.Wait(shortly)
	})
	return c
}

// childEnv is this process's environment without what would change how
// the child runs: Ginkgo's settings and etcdtest's.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "GINKGO") || strings.HasPrefix(name, "ETCDTEST_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// interrupt sends SIGINT to the child's process group, as ^C in a terminal does.
func (c *child) interrupt() {
	GinkgoHelper()
	Expect(syscall.Kill(-c.session.Command.Process.Pid, syscall.SIGINT)).To(Succeed())
}

// record is what a child process tells about its cluster (see testdata/child).
type record struct {
	Process   int      `json:"process"`
	Pid       int      `json:"pid"`
	ClusterID string   `json:"cluster_id"`
	Endpoints []string `json:"endpoints"`
	PeerURLs  []string `json:"peer_urls"`
	Dir       string   `json:"dir"`
	Members   []int    `json:"members"`
	Owner     string   `json:"owner"`
	Spare     bool     `json:"spare"` // the spec's cluster booted before the spec began: a warm spare
}

// files returns the names of the child's output files matching pattern.
func (c *child) files(pattern string) []string {
	names, _ := filepath.Glob(filepath.Join(c.out, pattern))
	return names
}

// records reads every record file matching pattern, ordered by process.
func (c *child) records(pattern string) []record {
	GinkgoHelper()
	var recs []record
	for _, name := range c.files(pattern) {
		b, err := os.ReadFile(name)
		Expect(err).NotTo(HaveOccurred())
		var r record
		Expect(json.Unmarshal(b, &r)).To(Succeed(), "%s: %s", name, b)
		recs = append(recs, r)
	}
	slices.SortFunc(recs, func(a, b record) int { return a.Process - b.Process })
	return recs
}

// leftovers lists what the child's clusters left on disk: cluster
// directories under its data dir, and the WAL directories etcdtest keeps in
// $TMPDIR when the data is on tmpfs, named after the recorded processes.
func (c *child) leftovers(recs []record) []string {
	var left []string
	for _, pattern := range []string{"*", ".*"} {
		found, _ := filepath.Glob(filepath.Join(c.data, "etcdtest-*", pattern))
		left = append(left, found...)
	}
	for _, r := range recs {
		for _, pattern := range []string{"%d-*", ".%d-*"} {
			found, _ := filepath.Glob(filepath.Join(os.TempDir(), "etcdtest-*", fmt.Sprintf(pattern, r.Pid)))
			left = append(left, found...)
		}
	}
	return left
}

// survivors lists the live processes that belong to the child's clusters:
// the recorded member pids, and any process whose command line names the
// child's data dir (members started after a record was written).
func (c *child) survivors(recs []record) []string {
	var found []string
	for _, r := range recs {
		for _, pid := range r.Members {
			if procfs.Alive(pid) && strings.Contains(cmdline(pid), r.Dir) {
				found = append(found, fmt.Sprintf("member pid %d of %s", pid, r.Dir))
			}
		}
	}
	pids, _ := procfs.Pids()
	for _, pid := range pids {
		if procfs.Alive(pid) && strings.Contains(cmdline(pid), c.data+string(filepath.Separator)) {
			found = append(found, fmt.Sprintf("pid %d: %s", pid, cmdline(pid)))
		}
	}
	return found
}

// cmdline is pid's command line, "" when it has none or is gone.
func cmdline(pid int) string {
	s, _ := procfs.Cmdline(pid)
	return s
}

// members lists the live processes whose command line names the child's
// data dir: the members of its clusters and of its spares.
func (c *child) members() []int {
	var found []int
	pids, _ := procfs.Pids()
	for _, pid := range pids {
		if procfs.Alive(pid) && strings.Contains(cmdline(pid), c.data+string(filepath.Separator)) {
			found = append(found, pid)
		}
	}
	return found
}
