package election_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

var _ = Describe("Three nodes competing on one path", func() {
	var a, b, c *locker.Node
	var nodes []*locker.Node

	BeforeEach(func(ctx SpecContext) {
		Expect(cluster.Reset(ctx)).To(Succeed())
		nodes = nil
		for _, id := range []string{"a", "b", "c"} {
			node, err := locker.New(cluster.Client(), "/example/election", locker.WithID(id), locker.WithTTL(time.Second))
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(node.Close)
			Expect(node.Write(ctx, "value of "+id)).To(Succeed())
			nodes = append(nodes, node)
		}
		a, b, c = nodes[0], nodes[1], nodes[2]
	}, NodeTimeout(10*time.Second))

	// The matchers poll the nodes (and etcd) until the election settles; on
	// failure they print what every node sees and what etcd holds. Eventually
	// here has Gomega's default timeout (1 s); SpecTimeout bounds each spec.
	It("elects the first to join, and every node sees its value", func(ctx SpecContext) {
		Eventually(a).Should(matchers.BeElected())
		Expect(nodes).To(matchers.HaveExactlyOneElected())
		for _, n := range nodes {
			Eventually(n).Should(matchers.HaveLeader("a"))
			Expect(n).To(matchers.HaveValue("value of a"))
		}
		Consistently(nodes, "300ms").Should(matchers.HaveExactlyOneElected())
	}, SpecTimeout(10*time.Second))

	It("hands over to the next in line when the leader leaves", func(ctx SpecContext) {
		Eventually(a).Should(matchers.BeElected())
		first, _ := a.Leader()

		Expect(a.Reset(ctx)).To(Succeed())
		Eventually(b).Should(matchers.BeElected())
		Expect(cluster.Key(a.Key())).To(matchers.BeMissing())
		Eventually(c).Should(matchers.HaveLeader("b"))
		next, _ := c.Leader()
		Expect(next.Revision).To(BeNumerically(">", first.Revision), "the fencing token grows")

		Expect(b.Close()).To(Succeed())
		Eventually(c).Should(matchers.BeElected())
		Expect(nodes).To(matchers.HaveExactlyOneElected())
	}, SpecTimeout(10*time.Second))

	It("tells the leader when it loses the lock", func(ctx SpecContext) {
		lost := make(chan string, 10) // one per election of a
		a.OnSelect(func(leading context.Context, value string) {
			go func() { <-leading.Done(); lost <- value }()
		})
		Eventually(a).Should(matchers.BeElected())

		Expect(a.Write(ctx, "a new value")).To(Succeed()) // the leader writes: a new election
		Eventually(lost).Should(Receive(Equal("value of a")))
		Eventually(b).Should(matchers.BeElected())
		Eventually(c).Should(matchers.HaveValue("value of b"))
	}, SpecTimeout(10*time.Second))

	It("replaces a leader whose lease is revoked", func(ctx SpecContext) {
		Eventually(a).Should(matchers.BeElected())
		resp, err := cluster.Client().Get(ctx, a.Key())
		Expect(err).NotTo(HaveOccurred())
		_, err = cluster.Client().Revoke(ctx, clientv3.LeaseID(resp.Kvs[0].Lease))
		Expect(err).NotTo(HaveOccurred())

		Eventually(b).Should(matchers.BeElected())
		Eventually(c).Should(matchers.HaveLeader("b"))
		Expect(nodes).To(matchers.HaveExactlyOneElected())
	}, SpecTimeout(10*time.Second))
})
