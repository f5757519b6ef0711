package etcdtest_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

var _ = Describe("Warm spares", func() {
	var data string
	var cfg etcdtest.Config
	BeforeEach(func() {
		data = GinkgoT().TempDir()
		cfg = etcdtest.Config{Size: 1, DataDir: data, Spare: true}
		// Spares outlive the spec that made them; these specs' spares must
		// not outlive their temporary data dir.
		DeferCleanup(etcdtest.StopSpares)
	})

	// spareMember waits until a spare's member runs next to the live
	// clusters' members, and returns its pid.
	spareMember := func(live ...*etcdtest.Cluster) int {
		GinkgoHelper()
		var pid int
		Eventually(func() int {
			pid = 0
			for _, p := range processesUsing(data + string(filepath.Separator)) {
				if !slicesContainsPid(live, p) {
					pid = p
				}
			}
			return pid
		}).WithTimeout(30*time.Second).ShouldNot(BeZero(), "a spare boots after the first Start")
		return pid
	}

	It("hands the next Start of an equal config a cluster that booted in the background", func(ctx SpecContext) {
		first := start(cfg)
		spare := spareMember(first)
		Expect(first.Stop(ctx)).To(Succeed())

		second := start(cfg)
		Expect(second.Member(0).Pid()).To(Equal(spare), "the second cluster is the spare")
		Expect(second.ID()).NotTo(Equal(first.ID()))
		Expect(second.Key("/k").Put(ctx, "v")).To(Succeed())
		resp, err := second.Client().Get(ctx, "/k")
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.Header.Revision).To(BeEquivalentTo(2), "a fresh cluster: one write after boot")
		Expect(etcdtest.SpareCount()).To(Equal(1), "and the next spare is on its way")
	})

	It("never hands out a spare whose member died: it boots a fresh cluster instead", func(ctx SpecContext) {
		first := start(cfg)
		spare := spareMember(first)
		p, err := os.FindProcess(spare)
		Expect(err).NotTo(HaveOccurred())
		Expect(p.Kill()).To(Succeed()) // SIGKILL
		Eventually(func() bool { return alive(spare) }).WithTimeout(10 * time.Second).Should(BeFalse())

		second := start(cfg)
		Expect(second.Member(0).Pid()).NotTo(Equal(spare))
		Expect(second.Key("/k").Put(ctx, "v")).To(Succeed())
	})

	It("never hands a spare to a config that differs", func(ctx SpecContext) {
		first := start(cfg)
		spare := spareMember(first)
		other := cfg
		other.ExtraFlags = []string{"--max-txn-ops=200"}
		second := start(other)
		Expect(second.Member(0).Pid()).NotTo(Equal(spare))
		Expect(alive(spare)).To(BeTrue(), "the spare waits for its own config")
	})

	It("is off with $ETCDTEST_SPARES=0 and with a LogOutput", func(ctx SpecContext) {
		GinkgoT().Setenv(etcdtest.EnvSpares, "0")
		start(cfg)
		Expect(etcdtest.SpareCount()).To(BeZero())
		os.Unsetenv(etcdtest.EnvSpares)
		logged := cfg
		logged.LogOutput = GinkgoWriter
		start(logged)
		Expect(etcdtest.SpareCount()).To(BeZero())
	})

	It("leaves nothing behind when the test process is SIGKILLed: members die, a reaper removes the data", func(ctx SpecContext) {
		out := filepath.Join(GinkgoT().TempDir(), "held")
		s := child("hold", out, data, "ETCDTEST_CHILD_SPARE=1")
		Eventually(out).WithTimeout(time.Minute).Should(BeAnExistingFile())
		b, err := os.ReadFile(out)
		Expect(err).NotTo(HaveOccurred())
		fields := strings.Fields(string(b))
		Expect(fields[1:]).To(HaveLen(3))
		Eventually(func() []int { return processesUsing(data + string(filepath.Separator)) }).
			WithTimeout(30*time.Second).Should(HaveLen(6), "the held cluster's 3 members and its spare's 3")

		Expect(s.Command.Process.Signal(syscall.SIGKILL)).To(Succeed())
		Eventually(s).WithTimeout(10 * time.Second).Should(gexec.Exit())
		Eventually(func() []int { return processesUsing(data + string(filepath.Separator)) }).
			WithTimeout(10*time.Second).Should(BeEmpty(), "parent-death signal")
		Eventually(func() []string {
			left, _ := filepath.Glob(filepath.Join(data, "etcdtest-*", "*"))
			dots, _ := filepath.Glob(filepath.Join(data, "etcdtest-*", ".*"))
			wal, _ := filepath.Glob(filepath.Join(os.TempDir(), "etcdtest-*", itoa(s.Command.Process.Pid)+"-*"))
			return append(append(left, dots...), wal...)
		}).WithTimeout(10*time.Second).Should(BeEmpty(), "the reaper removed the data of the cluster and of its spare")
	})
})

func slicesContainsPid(clusters []*etcdtest.Cluster, pid int) bool {
	for _, c := range clusters {
		for _, m := range c.Members() {
			if m.Pid() == pid {
				return true
			}
		}
	}
	return false
}
