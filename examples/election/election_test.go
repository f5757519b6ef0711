package election_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
)

var _ = Describe("Three nodes competing on one path", func() {
	var a, b, c *locker.Node

	BeforeEach(func(ctx SpecContext) {
		Expect(cluster.Reset(ctx)).To(Succeed())
		nodes := []*locker.Node{}
		for _, id := range []string{"a", "b", "c"} {
			node, err := locker.New(cluster.Client(), "/example/election", locker.WithID(id), locker.WithTTL(time.Second))
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(node.Close)
			Expect(node.Write(ctx, "value of "+id)).To(Succeed())
			nodes = append(nodes, node)
		}
		a, b, c = nodes[0], nodes[1], nodes[2]
	})

	elected := func() []string {
		var ids []string
		for _, n := range []*locker.Node{a, b, c} {
			if n.Elected() {
				ids = append(ids, n.ID())
			}
		}
		return ids
	}

	It("elects the first to join, and every node sees its value", func() {
		Eventually(elected).Should(Equal([]string{"a"}))
		for _, n := range []*locker.Node{a, b, c} {
			leader, ok := n.Leader()
			Expect(ok).To(BeTrue())
			Expect(leader.ID).To(Equal("a"))
			Expect(leader.Value).To(Equal("value of a"))
		}
	})

	It("hands over to the next in line when the leader leaves", func(ctx SpecContext) {
		Eventually(elected).Should(Equal([]string{"a"}))
		first, _ := a.Leader()

		Expect(a.Reset(ctx)).To(Succeed())
		Eventually(elected).Should(Equal([]string{"b"}))
		next, _ := c.Leader()
		Expect(next.Revision).To(BeNumerically(">", first.Revision), "the fencing token grows")

		Expect(b.Close()).To(Succeed())
		Eventually(elected).Should(Equal([]string{"c"}))
	})

	It("tells the leader when it loses the lock", func(ctx SpecContext) {
		lost := make(chan string, 10) // one per election of a
		a.OnSelect(func(leading context.Context, value string) {
			go func() { <-leading.Done(); lost <- value }()
		})
		Eventually(elected).Should(Equal([]string{"a"}))

		Expect(a.Write(ctx, "a new value")).To(Succeed()) // the leader writes: a new election
		Eventually(lost).Should(Receive(Equal("value of a")))
		Eventually(elected).Should(Equal([]string{"b"}))
	})

	It("replaces a leader whose lease is revoked", func(ctx SpecContext) {
		Eventually(elected).Should(Equal([]string{"a"}))
		resp, err := cluster.Client().Get(ctx, a.Key())
		Expect(err).NotTo(HaveOccurred())
		_, err = cluster.Client().Revoke(ctx, clientv3.LeaseID(resp.Kvs[0].Lease))
		Expect(err).NotTo(HaveOccurred())

		Eventually(elected).Should(Equal([]string{"b"}))
		Eventually(func() string { l, _ := c.Leader(); return l.ID }).Should(Equal("b"))
	})
})
