package matchers_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

var _ = Describe("HaveRaftLeader", func() {
	var leader, follower *etcdtest.Member

	BeforeEach(func(ctx SpecContext) {
		var err error
		leader, err = cluster.Leader(ctx)
		Expect(err).NotTo(HaveOccurred())
		for _, m := range cluster.Members() {
			if m != leader {
				follower = m
			}
		}
	})

	It("matches the raft leader by member, name or matcher", func() {
		Expect(cluster).To(matchers.HaveRaftLeader(leader))
		Expect(cluster).To(matchers.HaveRaftLeader(leader.Name()))
		Expect(cluster).To(matchers.HaveRaftLeader(HavePrefix("node")))
		Expect(cluster).NotTo(matchers.HaveRaftLeader(follower))
	})

	It("follows a new raft election when the leader is killed", func() {
		Expect(leader.Kill()).To(Succeed())
		Eventually(cluster).Should(matchers.HaveRaftLeader(Not(Equal(leader.Name()))))
	})

	It("says who leads instead", func() {
		m := matchers.HaveRaftLeader(follower)
		Expect(m.Match(cluster)).To(BeFalse())
		Expect(m.FailureMessage(cluster)).To(Equal("The cluster's raft leader:\nExpected\n    <string>: " + leader.Name() + "\nto equal\n    <string>: " + follower.Name()))
		m = matchers.HaveRaftLeader(leader)
		Expect(m.Match(cluster)).To(BeTrue())
		Expect(m.NegatedFailureMessage(cluster)).To(Equal("The cluster's raft leader:\nExpected\n    <string>: " + leader.Name() + "\nnot to equal\n    <string>: " + leader.Name()))
	})

	It("does not match a cluster without quorum, and says why", func() {
		pause(cluster.Member(0))
		pause(cluster.Member(1))
		pause(cluster.Member(2))
		m := matchers.HaveRaftLeader(leader)
		ok, err := m.Match(cluster)
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeFalse())
		Expect(m.FailureMessage(cluster)).To(HavePrefix("Expected the cluster's raft leader to match\n    <string>: " + leader.Name() + "\nbut it has none: etcdtest: no member reports a raft leader"))
	})

	It("is an error, not a mismatch, on anything but a cluster", func() {
		_, err := matchers.HaveRaftLeader("node1").Match(cluster.Member(0))
		Expect(err).To(MatchError("HaveRaftLeader matcher expects a *etcdtest.Cluster. Got:\n    <*etcdtest.Member>: node1"))
	})
})
