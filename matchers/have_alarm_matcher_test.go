package matchers_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

var _ = Describe("HaveAlarm", func() {
	var small *etcdtest.Cluster // a 1 MiB quota, to run out of space quickly

	BeforeEach(func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster)
		c, err := etcdtest.Start(ctx, etcdtest.Config{Binary: cluster.Binary(), QuotaBytes: 1 << 20})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(c.Stop(ctx)).To(Succeed()) }, NodeTimeout(20*time.Second))
		small = c
	})

	It("does not match a cluster without alarms, and says it has none", func() {
		m := matchers.HaveAlarm("NOSPACE")
		Expect(m.Match(small)).To(BeFalse())
		Expect(m.FailureMessage(small)).To(Equal("Expected etcd cluster (node1, node2, node3) to have an alarm matching\n    <string>: NOSPACE\nbut its alarms are: none"))
		Expect(small).NotTo(matchers.HaveAlarm(Not(BeEmpty())))
	})

	It("matches NOSPACE once the cluster runs out of space, naming the member that raised it, until it recovers", func(ctx SpecContext) {
		Expect(small.ExhaustSpace(ctx)).To(Succeed())
		m := matchers.HaveAlarm("NOSPACE")
		Expect(m.Match(small)).To(BeTrue())
		Expect(m.NegatedFailureMessage(small)).To(MatchText("Expected etcd cluster (node1, node2, node3) to have no alarm matching\n    <string>: NOSPACE\nbut its alarms are: NOSPACE (raised by node<N>)<ANY>"), "each member whose backend is full raises its own")
		Expect(small).To(matchers.HaveAlarm(HavePrefix("NO")))
		Expect(small).NotTo(matchers.HaveAlarm("CORRUPT"))

		Expect(small.RecoverSpace(ctx)).To(Succeed())
		Expect(small).NotTo(matchers.HaveAlarm("NOSPACE"))
	})

	It("is an error when the alarms cannot be read, in both forms", func() {
		pause(small.Member(0))
		pause(small.Member(1))
		m := matchers.HaveAlarm("NOSPACE")
		ok, err := m.Match(small)
		Expect(ok).To(BeFalse())
		Expect(err).To(MatchError(HavePrefix("matchers.HaveAlarm: cannot read the alarms of etcd cluster (node1, node2, node3): ")))
		Expect(InterceptGomegaFailure(func() { Expect(small).NotTo(matchers.HaveAlarm("NOSPACE")) })).To(MatchError(HavePrefix("matchers.HaveAlarm: cannot read")))
	})

	It("gives up at once on a stopped cluster", func(ctx context.Context) {
		Expect(small.Stop(ctx)).To(Succeed())
		m := matchers.HaveAlarm("NOSPACE")
		_, err := m.Match(small)
		Expect(err).To(MatchError("matchers.HaveAlarm: cannot read the alarms of etcd cluster (node1, node2, node3): the cluster is stopped"))
		t0 := time.Now()
		Expect(InterceptGomegaFailure(func() { Eventually(small).WithTimeout(10 * time.Second).Should(matchers.HaveAlarm("NOSPACE")) })).To(HaveOccurred())
		Expect(time.Since(t0)).To(BeNumerically("<", time.Second))
	})

	It("is an error on anything but a cluster", func() {
		_, err := matchers.HaveAlarm("NOSPACE").Match(small.Member(0))
		Expect(err).To(MatchError("HaveAlarm matcher expects a *etcdtest.Cluster. Got:\n    <*etcdtest.Member>: node1"))
	})
})
