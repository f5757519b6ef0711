package etcdtest_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// raftLeader returns the index of c's raft leader.
func raftLeader(ctx context.Context, c *etcdtest.Cluster) int {
	GinkgoHelper()
	l, err := c.Leader(ctx)
	Expect(err).NotTo(HaveOccurred())
	return slices.Index(c.Members(), l)
}

// othersThan returns the indexes of c's members other than i.
func othersThan(c *etcdtest.Cluster, i int) []int {
	var others []int
	for k := range c.Members() {
		if k != i {
			others = append(others, k)
		}
	}
	return others
}

// raftTerm returns the raft term member i reports (of the last entry it
// applied: a new leader's first entry raises it), 0 when it cannot say.
func raftTerm(c *etcdtest.Cluster, i int) func(context.Context) uint64 {
	return func(ctx context.Context) uint64 {
		ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		st, err := c.Member(i).Client().Status(ctx, c.Member(i).ClientURL())
		if err != nil {
			return 0
		}
		return st.RaftTerm
	}
}

// leadersSeen returns the raft leader each member reports, "" for none.
func leadersSeen(c *etcdtest.Cluster) func(context.Context) []string {
	return func(ctx context.Context) []string {
		var seen []string
		for i := range c.Members() {
			seen = append(seen, leaderSeenBy(c, i)(ctx))
		}
		return seen
	}
}

// oneLeader succeeds when every member reports the same raft leader.
func oneLeader() OmegaMatcher { return And(HaveEach(Not(BeEmpty())), allEqual()) }

var _ = Describe("Peer network faults beyond a clean cut", func() {
	// Default timing, stated: the specs reason about the election timeout.
	const electionTimeout = 100 * time.Millisecond

	Context("on a cluster with a 100 ms election timeout", func() {
		var c *etcdtest.Cluster
		BeforeEach(func() {
			c = etcdtest.Launch(etcdtest.Config{Binary: binary, HeartbeatInterval: 10 * time.Millisecond, ElectionTimeout: electionTimeout})
		})

		It("CutOneWay of the raft leader's messages: the others elect a new leader, the old one cannot commit, Heal reunites", func(ctx SpecContext) {
			l := raftLeader(ctx, c)
			others := othersThan(c, l)
			old := c.Member(l).Name()
			term := raftTerm(c, others[0])(ctx)

			Expect(c.CutOneWay([]int{l}, others)).To(Succeed())
			Expect(c.NetworkFaults()).To(Equal(fmt.Sprintf("%s -/-> {%s %s}", old, c.Member(others[0]).Name(), c.Member(others[1]).Name())))
			for _, o := range others {
				Eventually(leaderSeenBy(c, o)).WithContext(ctx).WithTimeout(shortly).Should(And(Not(BeEmpty()), Not(Equal(old))))
			}
			Eventually(raftTerm(c, others[0])).WithContext(ctx).WithTimeout(shortly).Should(BeNumerically(">", term))
			Eventually(canWrite(c, others[0])).WithContext(ctx).WithTimeout(shortly).Should(Succeed())
			// It still hears the others, but its proposals never reach a leader.
			Consistently(canWrite(c, l)).WithContext(ctx).WithTimeout(time.Second).ShouldNot(Succeed())
			Expect(c.Diagnostics()).To(ContainSubstring("network faults: " + old + " -/-> {"))

			Expect(c.Heal()).To(Succeed())
			Expect(c.NetworkFaults()).To(BeEmpty())
			Eventually(leadersSeen(c)).WithContext(ctx).WithTimeout(shortly).Should(oneLeader())
			Eventually(canWrite(c, l)).WithContext(ctx).WithTimeout(shortly).Should(Succeed())
		})

		It("CutOneWay of everything the followers send to the raft leader costs it its quorum: the others elect a new leader", func(ctx SpecContext) {
			l := raftLeader(ctx, c)
			others := othersThan(c, l)
			old := c.Member(l).Name()
			// Its heartbeats still arrive, their answers do not: it steps
			// down (check quorum), and the followers elect one of their own.
			Expect(c.CutOneWay(others, []int{l})).To(Succeed())
			Eventually(leaderSeenBy(c, others[0])).WithContext(ctx).WithTimeout(shortly).Should(And(Not(BeEmpty()), Not(Equal(old))))
			Eventually(canWrite(c, others[0])).WithContext(ctx).WithTimeout(shortly).Should(Succeed())
			Consistently(canWrite(c, l)).WithContext(ctx).WithTimeout(time.Second).ShouldNot(Succeed())

			Expect(c.Heal()).To(Succeed())
			Eventually(leadersSeen(c)).WithContext(ctx).WithTimeout(shortly).Should(oneLeader())
			Eventually(canWrite(c, l)).WithContext(ctx).WithTimeout(shortly).Should(Succeed())
		})

		It("latency above the election timeout on the raft leader's links makes the others elect a new leader", func(ctx SpecContext) {
			l := raftLeader(ctx, c)
			others := othersThan(c, l)
			old := c.Member(l).Name()
			term := raftTerm(c, others[0])(ctx)

			// Its heartbeats arrive 5 election timeouts late: the others time out.
			Expect(c.Delay(5*electionTimeout, l)).To(Succeed())
			Expect(c.NetworkFaults()).To(Equal("delay 500ms {" + old + "}"))
			Eventually(leaderSeenBy(c, others[0])).WithContext(ctx).WithTimeout(shortly).Should(And(Not(BeEmpty()), Not(Equal(old))))
			Eventually(raftTerm(c, others[0])).WithContext(ctx).WithTimeout(shortly).Should(BeNumerically(">", term))

			Expect(c.Heal()).To(Succeed())
			Expect(c.NetworkFaults()).To(BeEmpty())
			Eventually(leadersSeen(c)).WithContext(ctx).WithTimeout(shortly).Should(oneLeader())
		})

		It("latency above the election timeout on every link leaves no leader that can commit; Heal elects one at once", func(ctx SpecContext) {
			l := raftLeader(ctx, c)
			// An append's round trip (1 s) outlasts the leader's check that a
			// quorum answers (an election timeout), and a vote's round trip
			// outlasts every election timeout (100-200 ms): the leader steps
			// down before any answer arrives, and no campaign can win.
			Expect(c.Delay(5 * electionTimeout)).To(Succeed())
			Consistently(canWrite(c, l)).WithContext(ctx).WithTimeout(1500 * time.Millisecond).ShouldNot(Succeed())

			Expect(c.Heal()).To(Succeed()) // releases the held messages at once
			Eventually(leadersSeen(c)).WithContext(ctx).WithTimeout(shortly).Should(oneLeader())
			Eventually(canWrite(c, l)).WithContext(ctx).WithTimeout(shortly).Should(Succeed())
		})

		It("Drop(1) of the raft leader's traffic isolates it in effect: the others elect a new leader, it cannot commit", func(ctx SpecContext) {
			l := raftLeader(ctx, c)
			others := othersThan(c, l)
			old := c.Member(l).Name()

			Expect(c.Drop(1, l)).To(Succeed())
			Expect(c.NetworkFaults()).To(Equal("drop 100% {" + old + "}"))
			Eventually(leaderSeenBy(c, others[0])).WithContext(ctx).WithTimeout(shortly).Should(And(Not(BeEmpty()), Not(Equal(old))))
			Eventually(canWrite(c, others[0])).WithContext(ctx).WithTimeout(shortly).Should(Succeed())
			Consistently(canWrite(c, l)).WithContext(ctx).WithTimeout(time.Second).ShouldNot(Succeed())
			// The shared client was routed away from it.
			Expect(c.Reset(ctx)).To(Succeed())

			Expect(c.Heal()).To(Succeed())
			Eventually(leadersSeen(c)).WithContext(ctx).WithTimeout(shortly).Should(oneLeader())
			Eventually(canWrite(c, l)).WithContext(ctx).WithTimeout(shortly).Should(Succeed())
		})

		It("Drop of a fraction breaks peer connections, yet the cluster still commits writes", func(ctx SpecContext) {
			Expect(c.Drop(0.2)).To(Succeed())
			Expect(c.NetworkFaults()).To(Equal("drop 20% {node1 node2 node3}"))
			// A lost chunk resets its connection: etcd sees its streams break.
			Eventually(func() string { return c.Member(0).Logs() + c.Member(1).Logs() + c.Member(2).Logs() }).
				WithContext(ctx).WithTimeout(shortly).Should(ContainSubstring("lost TCP streaming connection"))
			Eventually(canWrite(c, 0)).WithContext(ctx).WithTimeout(shortly).Should(Succeed())

			Expect(c.Heal()).To(Succeed())
			Eventually(leadersSeen(c)).WithContext(ctx).WithTimeout(shortly).Should(oneLeader())
		})
	})

	Context("on a cluster with a 1 s election timeout", func() {
		var c *etcdtest.Cluster
		BeforeEach(func() {
			// A long election timeout keeps a loaded machine from causing
			// elections of its own during the window the spec watches.
			c = etcdtest.Launch(etcdtest.Config{Binary: binary, HeartbeatInterval: 50 * time.Millisecond, ElectionTimeout: time.Second})
		})

		It("latency well below the election timeout slows each write by a round trip, and elects no one", func(ctx SpecContext) {
			const d = 20 * time.Millisecond
			l := raftLeader(ctx, c)
			leader := c.Member(l).Name()
			term := raftTerm(c, l)(ctx)
			Expect(term).NotTo(BeZero())

			Expect(c.Delay(d)).To(Succeed())
			// A write commits once a follower's answer to the leader's
			// append came back: out and back, 2d at least.
			start := time.Now()
			_, err := c.Member(l).Client().Put(ctx, "/slow", "x")
			Expect(err).NotTo(HaveOccurred())
			Expect(time.Since(start)).To(BeNumerically(">=", 2*d))
			Consistently(func(ctx context.Context) []any {
				return []any{leaderSeenBy(c, l)(ctx), raftTerm(c, l)(ctx)}
			}).WithContext(ctx).WithTimeout(time.Second).Should(Equal([]any{leader, term}))

			Expect(c.Heal()).To(Succeed())
			Expect(c.NetworkFaults()).To(BeEmpty())
		})
	})

	It("rejects bad inputs, naming the cause and the fix, and changes nothing", func() {
		Expect(cluster.Delay(-time.Second)).To(MatchError("etcdtest: Delay(-1s): latency must not be negative; use 0 to remove it"))
		Expect(cluster.Delay(time.Second, 3)).To(MatchError("etcdtest: Delay: no member 3; use 0..2"))
		for _, rate := range []float64{-0.1, 1.5, math.NaN(), math.Inf(1)} {
			Expect(cluster.Drop(rate)).To(MatchError(fmt.Sprintf("etcdtest: Drop(%v): rate must be in [0, 1], the fraction of peer traffic lost (0.3 loses 30%%); use 0 to remove it", rate)))
		}
		Expect(cluster.Drop(0.5, -1)).To(MatchError("etcdtest: Drop: no member -1; use 0..2"))
		Expect(cluster.CutOneWay(nil, []int{1})).To(MatchError(ContainSubstring("CutOneWay([], [1]): name members on both sides, e.g. CutOneWay([]int{0}, []int{1, 2})")))
		Expect(cluster.CutOneWay([]int{0}, nil)).To(MatchError(ContainSubstring("CutOneWay([0], []): name members on both sides")))
		Expect(cluster.CutOneWay([]int{0}, []int{5})).To(MatchError("etcdtest: CutOneWay: no member 5; use 0..2"))
		Expect(cluster.CutOneWay([]int{1}, []int{1})).To(MatchError(ContainSubstring("cuts nothing: a member always reaches itself")))
		Expect(cluster.NetworkFaults()).To(BeEmpty())
	})

	It("heals when the cluster stops", func(ctx SpecContext) {
		c, err := etcdtest.Start(ctx, etcdtest.Config{Binary: binary, Size: 1})
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Delay(time.Second)).To(Succeed())
		Expect(c.Drop(0.5)).To(Succeed())
		Expect(c.Diagnostics()).To(ContainSubstring("network faults: delay 1s {node1}; drop 50% {node1}"))
		Expect(c.Stop(ctx)).To(Succeed())
		Expect(c.Diagnostics()).NotTo(ContainSubstring("network faults"))
	})
})
