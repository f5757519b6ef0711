package matchers_test

import (
	"time"

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

	It("does not match when the members that run say nobody leads, and lists what each said", func() {
		pause(cluster.Member(0))
		pause(cluster.Member(1))
		// node3, alone, drops its leader (maybe one elected just before the
		// second pause, now frozen) within an election timeout.
		Eventually(cluster).ShouldNot(matchers.HaveRaftLeader(Not(BeEmpty())))
		m := matchers.HaveRaftLeader(leader)
		Expect(m.Match(cluster)).To(BeFalse())
		Expect(m.FailureMessage(cluster)).To(Equal("Expected the cluster's raft leader to match\n    <string>: " + leader.Name() +
			"\nbut there is none: node1 is paused; node2 is paused; node3 sees no leader"))
		Expect(cluster).NotTo(matchers.HaveRaftLeader(leader), "the members answered: nobody leads")
	})

	It("is an error when no member can say, in both forms", func() {
		pause(cluster.Member(0))
		pause(cluster.Member(1))
		pause(cluster.Member(2))
		const cannotRead = "matchers.HaveRaftLeader: cannot read the raft leader of etcd cluster (node1, node2, node3): " +
			"no member runs: node1 is paused; node2 is paused; node3 is paused"
		m := matchers.HaveRaftLeader(leader)
		ok, err := m.Match(cluster)
		Expect(err).To(MatchError(cannotRead))
		Expect(ok).To(BeFalse())
		Expect(InterceptGomegaFailure(func() {
			Expect(cluster).NotTo(matchers.HaveRaftLeader(leader))
		})).To(MatchError(cannotRead))
		Expect(InterceptGomegaFailures(func() {
			Consistently(cluster, time.Second).ShouldNot(matchers.HaveRaftLeader(leader))
		})).To(HaveExactElements(MatchText("Failed after <N>.<N>s.\n" + cannotRead + "\n")))
	})

	It("is an error, not a mismatch, on anything but a cluster", func() {
		_, err := matchers.HaveRaftLeader("node1").Match(cluster.Member(0))
		Expect(err).To(MatchError("HaveRaftLeader matcher expects a *etcdtest.Cluster. Got:\n    <*etcdtest.Member>: node1"))
	})
})
