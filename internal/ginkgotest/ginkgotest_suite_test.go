//go:build unix

package ginkgotest_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

func TestGinkgotest(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "etcdtest under the Ginkgo CLI")
}

// tools are built once per run, by process 1, and shared by every process.
type tools struct {
	Dir    string // holds the two executables; removed after the suite
	Ginkgo string // the Ginkgo CLI of the version in go.mod
	Child  string // testdata/child compiled with go test -c
	Etcd   string // the etcd executable children use
}

var bin tools

var _ = SynchronizedBeforeSuite(func(ctx SpecContext) []byte {
	if os.Getenv(etcdtest.EnvEndpoints) != "" {
		return nil // children need clusters of their own; every spec skips
	}
	dir, err := os.MkdirTemp("", "ginkgotest-bin-")
	Expect(err).NotTo(HaveOccurred())
	t := tools{Dir: dir, Ginkgo: filepath.Join(dir, "ginkgo"), Child: filepath.Join(dir, "child.test")}

	// Both builds at once: each is mostly linking.
	errs := make(chan error, 2)
	goBuild := func(args ...string) {
		cmd := exec.CommandContext(ctx, "go", args...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			err = &buildError{args: args, err: err, out: string(out)}
		}
		errs <- err
	}
	go goBuild("test", "-c", "-o", t.Child, "./testdata/child")
	go goBuild("build", "-o", t.Ginkgo, "github.com/onsi/ginkgo/v2/ginkgo")
	t.Etcd, err = etcdtest.Provision(ctx, etcdtest.Config{})
	Expect(err).NotTo(HaveOccurred())
	Expect(<-errs).To(Succeed())
	Expect(<-errs).To(Succeed())

	b, err := json.Marshal(t)
	Expect(err).NotTo(HaveOccurred())
	return b
}, func(b []byte) {
	if len(b) > 0 {
		Expect(json.Unmarshal(b, &bin)).To(Succeed())
	}
}, NodeTimeout(15*time.Minute))

var _ = SynchronizedAfterSuite(func() {}, func() {
	if bin.Dir != "" {
		os.RemoveAll(bin.Dir)
	}
})

var _ = BeforeEach(func() {
	if bin.Child == "" {
		Skip("needs clusters booted by etcdtest: $" + etcdtest.EnvEndpoints + " is set")
	}
})

type buildError struct {
	args []string
	err  error
	out  string
}

func (e *buildError) Error() string {
	return "go " + e.args[0] + " " + e.args[len(e.args)-1] + ": " + e.err.Error() + "\n" + e.out
}

// shortly bounds waits for things that take milliseconds when all is well.
const shortly = 10 * time.Second

// eventually bounds waits for a child process: its Go and etcd start-up
// on a busy 2-core machine.
const eventually = time.Minute
