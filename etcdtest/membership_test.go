package etcdtest_test

import (
	"context"
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// membership returns the names etcd lists as voting members and as learners.
func membership(ctx context.Context, c *etcdtest.Cluster) (voters, learners []string) {
	GinkgoHelper()
	resp, err := c.Client().MemberList(ctx)
	Expect(err).NotTo(HaveOccurred())
	for _, m := range resp.Members {
		if m.IsLearner {
			learners = append(learners, m.Name)
		} else {
			voters = append(voters, m.Name)
		}
	}
	return voters, learners
}

// putVia writes through member m's own client, once, without retrying.
func putVia(ctx context.Context, m *etcdtest.Member, key string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	_, err := m.Client().Put(ctx, key, "v")
	return err
}

var _ = Describe("Membership changes", func() {
	var c *etcdtest.Cluster
	BeforeEach(func() { c = start(etcdtest.Config{}) })

	It("AddMember adds a voter that serves when it returns: the next index and name, a Put through it at once, four voters", func(ctx SpecContext) {
		m, err := c.AddMember(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(m.Name()).To(Equal("node4"))
		Expect(c.Member(3)).To(BeIdenticalTo(m))
		Expect(m.Index()).To(Equal(3))
		Expect(c.Members()).To(HaveLen(4))
		Expect(m.State()).To(Equal(etcdtest.Running))
		Expect(m.Learner()).To(BeFalse())
		Expect(putVia(ctx, m, "/through-node4")).To(Succeed())
		voters, learners := membership(ctx, c)
		Expect(voters).To(ConsistOf("node1", "node2", "node3", "node4"))
		Expect(learners).To(BeEmpty())
		Expect(c.Endpoints()).To(ContainElement(m.ClientURL()))
		// The quorum is 3 of 4 now: with two members gone, nothing commits.
		Expect(c.Member(0).Kill()).To(Succeed())
		Expect(putVia(ctx, m, "/three-of-four")).To(Succeed())
	})

	It("AddMember(AsLearner) returns a learner that has caught up; PromoteMember makes it a voter", func(ctx SpecContext) {
		Expect(c.Key("/before").Put(ctx, "written before the learner joined")).To(Succeed())
		m, err := c.AddMember(ctx, etcdtest.AsLearner())
		Expect(err).NotTo(HaveOccurred())
		Expect(m.Learner()).To(BeTrue())
		_, learners := membership(ctx, c)
		Expect(learners).To(ConsistOf("node4"))
		// Caught up: a serializable read through it sees what was written before.
		resp, err := m.Client().Get(ctx, "/before", clientv3.WithSerializable())
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.Kvs).To(HaveLen(1))
		// The shared client does not send requests to a learner, which refuses them.
		Expect(c.Client().Endpoints()).NotTo(ContainElement(m.ClientURL()))
		Expect(c.Diagnostics()).To(ContainSubstring("node4: running learner"))

		Expect(c.PromoteMember(ctx, m)).To(Succeed())
		Expect(m.Learner()).To(BeFalse())
		voters, learners := membership(ctx, c)
		Expect(voters).To(ConsistOf("node1", "node2", "node3", "node4"))
		Expect(learners).To(BeEmpty())
		Expect(putVia(ctx, m, "/through-the-promoted")).To(Succeed())
	})

	It("RemoveMember takes a member out of the membership and stops it; its index stays, in state Removed", func(ctx SpecContext) {
		m := c.Member(1)
		pid := m.Pid()
		Expect(c.RemoveMember(ctx, m)).To(Succeed())
		Expect(m.State()).To(Equal(etcdtest.Removed))
		Expect(alive(pid)).To(BeFalse())
		Expect(c.Members()).To(HaveLen(3))
		Expect(c.Member(1)).To(BeIdenticalTo(m))
		voters, _ := membership(ctx, c)
		Expect(voters).To(ConsistOf("node1", "node3"))
		Expect(c.Key("/after-remove").Put(ctx, "v")).To(Succeed())
		Expect(c.Client().Endpoints()).NotTo(ContainElement(m.ClientURL()))

		err := m.Restart(ctx)
		Expect(err).To(MatchError(ContainSubstring("Restart(node2): it was removed from the cluster (RemoveMember)")))
		Expect(c.RemoveMember(ctx, m)).To(MatchError(ContainSubstring("removed from the cluster already")))
	})

	It("RemoveMember of the raft leader: the others elect a new one and serve", func(ctx SpecContext) {
		l, err := c.Leader(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.RemoveMember(ctx, l)).To(Succeed())
		nl, err := c.Leader(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(nl).NotTo(BeIdenticalTo(l))
		for _, m := range c.Members() {
			if m != l {
				Expect(putVia(ctx, m, "/after-leader-removed")).To(Succeed())
			}
		}
	})

	It("replaces a member whose data is lost: remove it, add a new one, and the cluster is whole again", func(ctx SpecContext) {
		Expect(c.Key("/kept").Put(ctx, "by the others")).To(Succeed())
		lost := c.Member(2)
		Expect(lost.Kill()).To(Succeed())
		Expect(os.RemoveAll(lost.DataDir())).To(Succeed()) // the disk is gone
		Expect(c.RemoveMember(ctx, lost)).To(Succeed())
		m, err := c.AddMember(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(m.Name()).To(Equal("node4"))
		v, found, err := m.Key("/kept").Get(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(found).To(BeTrue())
		Expect(v).To(Equal("by the others"))
		voters, _ := membership(ctx, c)
		Expect(voters).To(ConsistOf("node1", "node2", "node4"))
	})

	Describe("bad input", func() {
		It("promoting a voter, a nil or foreign member, removing the last voter: each a clear error, nothing changed", func(ctx SpecContext) {
			Expect(c.PromoteMember(ctx, c.Member(0))).To(MatchError(ContainSubstring("it is a voting member already; only a member added with AsLearner can be promoted")))
			Expect(c.RemoveMember(ctx, nil)).To(MatchError(ContainSubstring("the member is nil")))
			other := start(etcdtest.Config{Size: 1})
			Expect(c.RemoveMember(ctx, other.Member(0))).To(MatchError(ContainSubstring("not a member of this cluster")))
			Expect(other.RemoveMember(ctx, other.Member(0))).To(MatchError(ContainSubstring("it is the last voting member")))
			_, err := c.AddMember(ctx, nil)
			Expect(err).To(MatchError(ContainSubstring("a nil MemberOption")))
			voters, _ := membership(ctx, c)
			Expect(voters).To(HaveLen(3))
			Expect(c.Members()).To(HaveLen(3))
		})

		It("AddMember while partitioned is refused: Heal first", func(ctx SpecContext) {
			Expect(c.Isolate(0)).To(Succeed())
			_, err := c.AddMember(ctx)
			Expect(err).To(MatchError(ContainSubstring("call Heal first")))
			Expect(c.Members()).To(HaveLen(3))
		})

		It("AddMember without a quorum fails within its deadline and leaves no member, process or data behind", func(ctx SpecContext) {
			Expect(c.Member(1).Kill()).To(Succeed())
			Expect(c.Member(2).Kill()).To(Succeed())
			actx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			_, err := returnsWithin(10*time.Second, func() error {
				_, err := c.AddMember(actx)
				return err
			})
			Expect(err).To(MatchError(ContainSubstring("etcd refused to add node4")))
			Expect(c.Members()).To(HaveLen(3))
			Expect(processesUsing(c.Dir() + "/node4")).To(BeEmpty())
			_, statErr := os.Stat(c.Dir() + "/node4")
			Expect(os.IsNotExist(statErr)).To(BeTrue())
		})
	})

	It("Stop leaves no added member behind", func(ctx SpecContext) {
		d := start(etcdtest.Config{Size: 1})
		m, err := d.AddMember(ctx, etcdtest.AsLearner())
		Expect(err).NotTo(HaveOccurred())
		pid, dir := m.Pid(), d.Dir()
		Expect(d.Stop(ctx)).To(Succeed())
		Expect(alive(pid)).To(BeFalse())
		_, statErr := os.Stat(dir)
		Expect(os.IsNotExist(statErr)).To(BeTrue())
	})
})
