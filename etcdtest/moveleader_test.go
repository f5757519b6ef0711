package etcdtest_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

var _ = Describe("MoveLeader", Ordered, func() {
	var c *etcdtest.Cluster
	BeforeAll(func() {
		etcdtest.SkipIfExternal(cluster)
		c = etcdtest.Launch(etcdtest.Config{Binary: binary})
	})

	// everyMemberFollows asserts, with no retry, that each running member
	// reports m as its raft leader and takes a Put at its first attempt.
	everyMemberFollows := func(ctx context.Context, m *etcdtest.Member) {
		GinkgoHelper()
		for _, o := range c.Members() {
			if o.State() != etcdtest.Running {
				continue
			}
			st, err := o.Status(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(c.MemberByID(st.Leader)).To(BeIdenticalTo(m), "%s's raft leader right after MoveLeader returned", o.Name())
			pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			_, err = o.Client().Put(pctx, "/after-the-move", o.Name())
			cancel()
			Expect(err).NotTo(HaveOccurred(), "a Put through %s right after MoveLeader, with no retry", o.Name())
		}
	}

	It("hands leadership to each member in turn and returns once every member follows it", func(ctx SpecContext) {
		for round := range 2 {
			for _, m := range c.Members() {
				Expect(c.MoveLeader(ctx, m)).To(Succeed(), "round %d, to %s", round, m.Name())
				Expect(c).To(matchers.HaveRaftLeader(m))
				everyMemberFollows(ctx, m)
			}
		}
	}, SpecTimeout(time.Minute))

	It("does nothing when the member already leads: no election, the term stays", func(ctx SpecContext) {
		l, err := c.Leader(ctx)
		Expect(err).NotTo(HaveOccurred())
		before, err := l.Status(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.MoveLeader(ctx, l)).To(Succeed())
		after, err := l.Status(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(after.RaftTerm).To(Equal(before.RaftTerm))
		Expect(c.MemberByID(after.Leader)).To(BeIdenticalTo(l))
	}, SpecTimeout(30*time.Second))

	Context("bad input: fails at once with the cause and the fix, and the leader stays", func() {
		var leader *etcdtest.Member
		BeforeEach(func(ctx SpecContext) {
			var err error
			leader, err = c.Leader(ctx)
			Expect(err).NotTo(HaveOccurred())
		}, NodeTimeout(10*time.Second))
		AfterEach(func(ctx SpecContext) {
			Expect(c).To(matchers.HaveRaftLeader(leader), "a refused MoveLeader changes nothing")
		}, NodeTimeout(10*time.Second))

		follower := func() *etcdtest.Member {
			for _, m := range c.Members() {
				if m != leader {
					return m
				}
			}
			panic("a 3-member cluster has followers")
		}

		// quickly returns MoveLeader's error and asserts it came without
		// waiting on etcd (whose request timeout is 5 s).
		quickly := func(ctx context.Context, m *etcdtest.Member) error {
			GinkgoHelper()
			began := time.Now()
			err := c.MoveLeader(ctx, m)
			Expect(time.Since(began)).To(BeNumerically("<", 500*time.Millisecond), "MoveLeader decides before asking etcd")
			return err
		}

		It("refuses nil", func(ctx SpecContext) {
			Expect(quickly(ctx, nil)).To(MatchError(ContainSubstring("MoveLeader(nil): name the member to lead")))
		}, SpecTimeout(10*time.Second))

		It("refuses a member of another cluster", func(ctx SpecContext) {
			Expect(quickly(ctx, cluster.Member(1))).To(MatchError(And(
				ContainSubstring("is not a member of this cluster"),
				ContainSubstring("pass one of this cluster's Members()"),
			)))
		}, SpecTimeout(10*time.Second))

		It("refuses a paused member, without waiting for etcd's timeout", func(ctx SpecContext) {
			m := follower()
			Expect(m.Pause()).To(Succeed())
			DeferCleanup(m.Resume)
			Expect(quickly(ctx, m)).To(MatchError(And(
				ContainSubstring("MoveLeader("+m.Name()+"): member "+m.Name()+" is paused and cannot lead"),
				ContainSubstring("Resume it first"),
			)))
		}, SpecTimeout(30*time.Second))

		It("refuses a killed member", func(ctx SpecContext) {
			m := follower()
			Expect(m.Kill()).To(Succeed())
			DeferCleanup(m.Restart)
			Expect(quickly(ctx, m)).To(MatchError(And(
				ContainSubstring("member "+m.Name()+" is killed"),
				ContainSubstring("Restart it first"),
			)))
		}, SpecTimeout(30*time.Second))

		It("refuses a member isolated by a partition, naming the partition", func(ctx SpecContext) {
			m := follower()
			i := -1
			for k, o := range c.Members() {
				if o == m {
					i = k
				}
			}
			Expect(c.Isolate(i)).To(Succeed())
			DeferCleanup(c.Heal)
			Expect(quickly(ctx, m)).To(MatchError(And(
				ContainSubstring("member "+m.Name()+" is cut off from the majority"),
				ContainSubstring(c.NetworkFaults()),
				ContainSubstring("Heal first"),
			)))
		}, SpecTimeout(30*time.Second))
	})

	Context("with faults", func() {
		It("moves leadership among the survivors of a killed leader, and back to it after Restart", func(ctx SpecContext) {
			old, err := c.Leader(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(old.Kill()).To(Succeed())
			DeferCleanup(old.Restart)
			now, err := c.Leader(ctx)
			Expect(err).NotTo(HaveOccurred())
			var other *etcdtest.Member
			for _, m := range c.Members() {
				if m != old && m != now {
					other = m
				}
			}
			Expect(c.MoveLeader(ctx, other)).To(Succeed())
			everyMemberFollows(ctx, other)

			Expect(old.Restart(ctx)).To(Succeed())
			Expect(c.MoveLeader(ctx, old)).To(Succeed())
			everyMemberFollows(ctx, old)
		}, SpecTimeout(time.Minute))

		It("moves leadership to a member that was paused, once it is resumed", func(ctx SpecContext) {
			l, err := c.Leader(ctx)
			Expect(err).NotTo(HaveOccurred())
			var m *etcdtest.Member
			for _, o := range c.Members() {
				if o != l {
					m = o
				}
			}
			Expect(m.Pause()).To(Succeed())
			Expect(c.Key("/while-paused").Put(ctx, "v")).To(Succeed()) // m falls behind
			Expect(m.Resume()).To(Succeed())
			Expect(c.MoveLeader(ctx, m)).To(Succeed())
			everyMemberFollows(ctx, m)
		}, SpecTimeout(time.Minute))
	})
})

var _ = It("refuses MoveLeader to a learner at once, saying to promote it", func(ctx SpecContext) {
	etcdtest.SkipIfExternal(cluster)
	c := start(etcdtest.Config{Size: 1})
	learner, err := c.AddMember(ctx, etcdtest.AsLearner())
	Expect(err).NotTo(HaveOccurred())
	began := time.Now()
	Expect(c.MoveLeader(ctx, learner)).To(MatchError(And(
		ContainSubstring("etcd refuses "+learner.Name()+" as leader"), ContainSubstring("PromoteMember it first"))))
	Expect(time.Since(began)).To(BeNumerically("<", 2*time.Second), "no retry until the settle timeout")
}, SpecTimeout(time.Minute))

var _ = It("refuses MoveLeader against an external cluster", func(ctx SpecContext) {
	if !cluster.External() {
		Skip("needs $ETCDTEST_ENDPOINTS")
	}
	Expect(cluster.MoveLeader(ctx, cluster.Member(0))).To(MatchError(etcdtest.ErrExternal))
}, SpecTimeout(10*time.Second))
