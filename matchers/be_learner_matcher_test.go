package matchers_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

var _ = Describe("BeLearner", func() {
	It("follows a learner's promotion, as the member reports it", func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster)
		c, err := etcdtest.Start(context.Background(), etcdtest.Config{Binary: cluster.Binary(), Size: 1})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(c.Stop(ctx)).To(Succeed()) })
		m, err := c.AddMember(ctx, etcdtest.AsLearner())
		Expect(err).NotTo(HaveOccurred())
		Expect(m).To(matchers.BeLearner())
		Expect(c.Member(0)).NotTo(matchers.BeLearner())

		l := matchers.BeLearner()
		Expect(l.Match(c.Member(0))).To(BeFalse())
		Expect(l.FailureMessage(c.Member(0))).To(Equal("Expected member node1 to be a raft learner, but it is a voting member"))
		Expect(l.NegatedFailureMessage(m)).To(Equal("Expected member node2 to be a voting member, but it is a raft learner"))

		Expect(c.PromoteMember(ctx, m)).To(Succeed())
		Eventually(m).WithContext(ctx).ShouldNot(matchers.BeLearner())
	})

	It("is an error, not a mismatch, for a member that cannot answer and for anything but a member", func() {
		etcdtest.SkipIfExternal(cluster)
		pause(cluster.Member(0))
		_, err := matchers.BeLearner().Match(cluster.Member(0))
		Expect(err).To(MatchError("matchers.BeLearner: cannot read whether node1 is a learner: it is paused"))
		_, err = matchers.BeLearner().Match(cluster)
		Expect(err).To(MatchError(HavePrefix("BeLearner matcher expects a *etcdtest.Member. Got:\n")))
	})
})
