package failover_test

import (
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

func TestFailover(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "failover")
}

var cluster = etcdtest.BeforeSuite(etcdtest.Config{})

// Three election nodes, node i talking to etcd member i only, with 1 s leases:
// when a node's member dies or is cut off, that node loses its session.
var nodes []*locker.Node

var _ = BeforeEach(func(ctx SpecContext) {
	etcdtest.SkipIfExternal(cluster)
	path := fmt.Sprintf("/failover/%d", GinkgoRandomSeed()+int64(CurrentSpecReport().LeafNodeLocation.LineNumber))
	nodes = nil
	for i, m := range cluster.Members() {
		n, err := locker.New(m.Client(), path, locker.WithID(fmt.Sprintf("n%d", i+1)), locker.WithTTL(time.Second))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(n.Close)
		Expect(n.Write(ctx, fmt.Sprintf("value of n%d", i+1))).To(Succeed())
		nodes = append(nodes, n)
	}
	Eventually(nodes).WithTimeout(5 * time.Second).Should(matchers.HaveExactlyOneElected())
	// Put the cluster back whatever a spec did to it, also when it failed.
	DeferCleanup(func(ctx SpecContext) {
		Expect(cluster.Heal()).To(Succeed())
		for _, m := range cluster.Members() {
			if m.State() == etcdtest.Paused {
				Expect(m.Resume()).To(Succeed())
			}
			if !m.Running() {
				Expect(m.Restart(ctx)).To(Succeed())
			}
		}
		// WithTimeout always goes with WithContext: under a SpecContext,
		// Gomega otherwise polls until the node's own timeout.
		Eventually(cluster).WithContext(ctx).WithTimeout(10 * time.Second).Should(matchers.BeHealthy())
	}, NodeTimeout(time.Minute))
}, NodeTimeout(20*time.Second))

// elected returns the elected node and the index of its member.
func elected() (*locker.Node, int) {
	GinkgoHelper()
	for i, n := range nodes {
		if n.Elected() {
			return n, i
		}
	}
	Fail("no node is elected")
	return nil, -1
}

var _ = Describe("Failover", func() {
	It("elects another node when the leader's etcd member is killed", func(ctx SpecContext) {
		leader, i := elected()
		Expect(cluster.Member(i).Kill()).To(Succeed())

		Eventually(leader).WithTimeout(3 * time.Second).ShouldNot(matchers.BeElected())
		Eventually(nodes).WithTimeout(5 * time.Second).Should(matchers.HaveExactlyOneElected())
		next, _ := elected()
		Expect(next.ID()).NotTo(Equal(leader.ID()))
		for _, n := range nodes {
			if n != leader {
				Eventually(n).WithTimeout(2 * time.Second).Should(matchers.HaveLeader(next.ID()))
				Eventually(n).WithTimeout(2 * time.Second).Should(matchers.HaveValue("value of " + next.ID()))
			}
		}
	}, SpecTimeout(20*time.Second))

	It("elects another node when the leader's member is isolated from its peers", func(ctx SpecContext) {
		leader, i := elected()
		Expect(cluster.Isolate(i)).To(Succeed())

		Eventually(leader).WithTimeout(3 * time.Second).ShouldNot(matchers.BeElected())
		Eventually(nodes).WithTimeout(5 * time.Second).Should(matchers.HaveExactlyOneElected())
		Consistently(leader).WithTimeout(time.Second).ShouldNot(matchers.BeElected(), "a node on the minority side never comes back as leader")
	}, SpecTimeout(20*time.Second))

	It("keeps the leader when a follower member it does not talk to is killed", func(ctx SpecContext) {
		leader, i := elected()
		raftLeader, err := cluster.Leader(ctx)
		Expect(err).NotTo(HaveOccurred())
		for j, m := range cluster.Members() {
			// Not the raft leader: its loss stalls every member for an election,
			// which a node talking to one member only cannot ride out.
			if j != i && m != raftLeader {
				Expect(m.Kill()).To(Succeed())
				break
			}
		}
		Consistently(leader).WithTimeout(2 * time.Second).Should(matchers.BeElected())
	}, SpecTimeout(20*time.Second))
})
