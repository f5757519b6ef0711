package etcdtest_test

import (
	"context"
	"os"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

func TestEtcdtest(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "etcdtest")
}

// cluster is the suite's shared cluster, one per parallel process.
var cluster = etcdtest.BeforeSuite(etcdtest.Config{})

// binary is the etcd executable the suite's clusters run, for specs that
// start their own clusters.
var binary string

var _ = BeforeEach(func() {
	if binary == "" {
		binary = cluster.Binary()
	}
})

// start boots a cluster of the suite's etcd binary and stops it after the spec.
func start(cfg etcdtest.Config) *etcdtest.Cluster {
	GinkgoHelper()
	if cfg.Binary == "" {
		cfg.Binary = binary
	}
	c, err := etcdtest.Start(context.Background(), cfg)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func(ctx SpecContext) { Expect(c.Stop(ctx)).To(Succeed()) }, NodeTimeout(etcdtest.StopTimeout))
	return c
}

// alive reports whether pid names a live, non-zombie process.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// state is the field after the parenthesised command name
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == ')' {
			return i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
		}
	}
	return true
}

// processesUsing returns the pids whose command line contains s.
func processesUsing(s string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid := atoi(e.Name())
		if pid <= 0 || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && containsBytes(b, s) && alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

var shortly = 10 * time.Second
