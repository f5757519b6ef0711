package etcdtest_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/internal/procfs"
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
	DeferCleanup(func(ctx SpecContext) { Expect(c.Stop(ctx)).To(Succeed()) }, NodeTimeout(20*time.Second))
	return c
}

// alive reports whether pid names a live, non-zombie process.
func alive(pid int) bool { return procfs.Alive(pid) }

// processesUsing returns the pids whose command line contains s.
func processesUsing(s string) []int {
	var pids []int
	all, _ := procfs.Pids()
	for _, pid := range all {
		if pid == os.Getpid() {
			continue
		}
		cmd, err := procfs.Cmdline(pid)
		if err == nil && strings.Contains(cmd, s) && alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

var shortly = 10 * time.Second
