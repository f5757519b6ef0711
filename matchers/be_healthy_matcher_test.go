package matchers_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

var _ = Describe("BeHealthy", func() {
	It("matches a cluster whose members all serve, and says so when negated", func(ctx SpecContext) {
		leader, err := cluster.Leader(ctx)
		Expect(err).NotTo(HaveOccurred())
		l := leader.Name()

		m := matchers.BeHealthy()
		Expect(m.Match(cluster)).To(BeTrue())
		Expect(m.NegatedFailureMessage(cluster)).To(MatchText(`Expected etcd cluster (node1, node2, node3) not to be healthy, but it is:
    node1: running, raft leader ` + l + ` (term <N>), serves
    node2: running, raft leader ` + l + ` (term <N>), serves
    node3: running, raft leader ` + l + ` (term <N>), serves
    raft leader: ` + l + `
`))
		for _, member := range cluster.Members() {
			Expect(member).To(matchers.BeHealthy())
		}
	})

	It("names a killed member, and matches again once it is restarted", func(ctx SpecContext) {
		down := cluster.Member(2)
		Expect(down.Kill()).To(Succeed())

		m := matchers.BeHealthy()
		Expect(m.Match(cluster)).To(BeFalse())
		Expect(m.FailureMessage(cluster)).To(MatchText(`Expected etcd cluster (node1, node2, node3) to be healthy, but it is not:
    node1: running, raft leader <ANY> (term <N>), serves
    node2: running, raft leader <ANY> (term <N>), serves
    node3: killed: down: Restart brings it back
    raft leader: node<N>
`))
		Expect(m.Match(down)).To(BeFalse())
		Expect(m.FailureMessage(down)).To(Equal("Expected etcd member node3 to be healthy, but it is not:\n    node3: killed: down: Restart brings it back\n"))

		Expect(down.Restart(ctx)).To(Succeed())
		Eventually(cluster).Should(matchers.BeHealthy())
		Expect(down).To(matchers.BeHealthy())
	})

	It("names a paused member, and matches again once it is resumed", func() {
		frozen := cluster.Member(1)
		pause(frozen)

		m := matchers.BeHealthy()
		Expect(m.Match(cluster)).To(BeFalse())
		Expect(m.FailureMessage(cluster)).To(ContainSubstring("\n    node2: paused: frozen by Pause, it answers nothing until Resume\n"))
		Expect(frozen).NotTo(matchers.BeHealthy())
		// Not answering is what unhealthy means: a mismatch, not a read error.
		Consistently(frozen, 300*time.Millisecond).ShouldNot(matchers.BeHealthy())

		Expect(frozen.Resume()).To(Succeed())
		Eventually(cluster).Should(matchers.BeHealthy())
	})

	It("sees a member cut off from its peers, and the partition, until it is healed", func() {
		Expect(cluster.Isolate(0)).To(Succeed())

		m := matchers.BeHealthy()
		Eventually(cluster).ShouldNot(m)
		// The lines after the members depend on how far the split has got
		// (node1 may still name its old term's leader): check what is certain.
		msg := m.FailureMessage(cluster)
		Expect(msg).To(HavePrefix("Expected etcd cluster (node1, node2, node3) to be healthy, but it is not:\n    node1: running"))
		Expect(msg).To(MatchRegexp(`\n    raft leader: .*\n`))
		Expect(msg).To(ContainSubstring("\n    network faults: {node2 node3} | {node1}\n"))
		Eventually(cluster.Member(0)).ShouldNot(matchers.BeHealthy())

		Expect(cluster.Heal()).To(Succeed())
		Eventually(cluster).Should(matchers.BeHealthy())
		Expect(cluster.Member(0)).To(matchers.BeHealthy())
	})

	It("gives up at once on a stopped cluster and its members", func(ctx SpecContext) {
		stopped, err := etcdtest.Start(ctx, etcdtest.Config{Size: 1, Name: "gone"})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(stopped.Stop, context.Background())
		Expect(stopped).To(matchers.BeHealthy())
		Expect(stopped.Stop(ctx)).To(Succeed())

		Expect(bailsOutEarly(stopped, matchers.BeHealthy())).To(ContainSubstring(
			"Expected etcd cluster (gone1) to be healthy, but it is not:\n    stopped (it will not change any more)\n"))
		Expect(bailsOutEarly(stopped.Member(0), matchers.BeHealthy())).To(ContainSubstring(
			"Expected etcd member gone1 to be healthy, but it is not:\n    stopped (it will not change any more)\n    gone1: stopped: down: Restart brings it back\n"))
		By("and so do the other matchers on what belonged to it")
		Expect(bailsOutEarly(stopped.Key("/k"), matchers.HaveValue("v"))).To(MatchText("No future change is possible.  Bailing out early after <N>.<N>s.\n" +
			"matchers.HaveValue: cannot read /k via cluster: its client is closed (the cluster was stopped)\n"))
		Expect(bailsOutEarly(stopped.Member(0).Key("/k"), matchers.BeMissing())).To(MatchText("No future change is possible.  Bailing out early after <N>.<N>s.\n" +
			"matchers.BeMissing: cannot read /k via gone1: its client is closed (the cluster was stopped)\n"))
		Expect(bailsOutEarly(stopped, matchers.HaveRaftLeader("gone1"))).To(MatchText("No future change is possible.  Bailing out early after <N>.<N>s.\n" +
			"matchers.HaveRaftLeader: cannot read the raft leader of etcd cluster (gone1): the cluster is stopped\n"))
	})

	It("is an error, not a mismatch, on anything but a cluster or a member", func() {
		m := matchers.BeHealthy()
		_, err := m.Match("node1")
		Expect(err).To(MatchError("BeHealthy matcher expects a *etcdtest.Cluster or a *etcdtest.Member. Got:\n    <string>: node1"))
		_, err = m.Match((*etcdtest.Cluster)(nil))
		Expect(err).To(HaveOccurred())
		Expect(m.(types.OracleMatcher).MatchMayChangeInTheFuture("node1")).To(BeFalse())
		Expect(m.(types.OracleMatcher).MatchMayChangeInTheFuture(cluster)).To(BeTrue())
	})
})
