package locker_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
)

var _ = Describe("A node", func() {
	var path string
	BeforeEach(func() { path = newPath() })

	It("is elected alone, and every node sees its value", func() {
		a := newNode(cluster.Client(), path, locker.WithID("a"))
		b := newNode(cluster.Client(), path, locker.WithID("b"))
		Expect(a.Elected()).To(BeFalse())
		_, ok := a.Leader()
		Expect(ok).To(BeFalse())

		write(a, "alpha")
		waitElected(2*time.Second, a, b)
		Eventually(leaderOf(b)).Should(Equal(locker.Leader{ID: "a", Value: "alpha", Revision: mustLeader(a).Revision}))
		Eventually(b.Changes).Should(Equal([]change{{"a", "alpha"}}))
		Expect(b.Elected()).To(BeFalse())
	})

	It("keeps its place in line when it writes while not elected", func() {
		a := newNode(cluster.Client(), path, locker.WithID("a"))
		b := newNode(cluster.Client(), path, locker.WithID("b"))
		write(a, "1")
		write(b, "2")
		waitElected(2*time.Second, a, b)
		before := mustLeader(a).Revision

		write(b, "2b")
		Consistently(a.Elected).WithTimeout(100 * time.Millisecond).Should(BeTrue())
		Expect(mustLeader(b).Revision).To(Equal(before))
		Expect(a.Reset(context.Background())).To(Succeed())
		Eventually(b.Elected).Should(BeTrue())
		Expect(mustLeader(b)).To(Equal(locker.Leader{ID: "b", Value: "2b", Revision: mustLeader(b).Revision}))
	})

	It("holds a new election when the leader writes, and the value applies after it", func() {
		a := newNode(cluster.Client(), path, locker.WithID("a"))
		b := newNode(cluster.Client(), path, locker.WithID("b"))
		write(a, "1")
		write(b, "2")
		waitElected(2*time.Second, a, b)

		write(a, "1b")
		waitElected(time.Second, a, b)
		Expect(b.Elected()).To(BeTrue())
		Eventually(a.Changes).Should(Equal([]change{{"a", "1"}, {"b", "2"}}))
		Expect(b.Reset(context.Background())).To(Succeed())
		Eventually(a.Elected).Should(BeTrue())
		Expect(mustLeader(a).Value).To(Equal("1b"))
	})

	It("does not rejoin after Reset until the next Write", func() {
		a := newNode(cluster.Client(), path, locker.WithID("a"))
		write(a, "1")
		Eventually(a.Elected).WithTimeout(2 * time.Second).Should(BeTrue())
		Expect(a.Reset(context.Background())).To(Succeed())
		Expect(a.Elected()).To(BeFalse())
		Eventually(a.Changes).Should(Equal([]change{{"a", "1"}, {"", ""}}))
		Consistently(func() change { return truth(path) }).WithTimeout(300 * time.Millisecond).Should(Equal(change{}))
		Expect(leaseOfKey(a.Key())).To(BeZero())
		Expect(locker.LeaseOf(a.Node)).To(BeZero())

		write(a, "2")
		Eventually(a.Elected).Should(BeTrue())
		Expect(mustLeader(a).Value).To(Equal("2"))
	})

	It("refuses a second live node with the same ID", func() {
		// A one-second lease reads as "0 seconds left" most of the time: still alive.
		a := newNode(cluster.Client(), path, locker.WithID("same"), locker.WithTTL(ttl))
		early, err := locker.New(cluster.Client(), path, locker.WithID("same"))
		Expect(err).NotTo(HaveOccurred(), "nobody holds the ID yet")
		DeferCleanup(early.Close)
		write(a, "1")

		_, err = locker.New(cluster.Client(), path, locker.WithID("same"))
		Expect(err).To(MatchError(locker.ErrDuplicateID))
		Expect(early.Write(context.Background(), "2")).To(MatchError(locker.ErrDuplicateID))
		Expect(truth(path)).To(Equal(change{"same", "1"}))

		Expect(a.Close()).To(Succeed())
		Expect(early.Write(context.Background(), "2")).To(Succeed())
		Eventually(early.Elected).Should(BeTrue())
	})

	It("rejects bad options and paths", func() {
		_, err := locker.New(cluster.Client(), path, locker.WithTTL(1500*time.Millisecond))
		Expect(err).To(MatchError(ContainSubstring("whole seconds")))
		_, err = locker.New(cluster.Client(), path, locker.WithTTL(0))
		Expect(err).To(HaveOccurred())
		_, err = locker.New(cluster.Client(), path, locker.WithID("a/b"))
		Expect(err).To(MatchError(ContainSubstring("contains '/'")))
		_, err = locker.New(cluster.Client(), "")
		Expect(err).To(MatchError(ContainSubstring("empty path")))
		_, err = locker.New(nil, path)
		Expect(err).To(HaveOccurred())
	})

	It("gets a random ID by default", func() {
		a := newNode(cluster.Client(), path)
		b := newNode(cluster.Client(), path)
		Expect(a.ID()).NotTo(BeEmpty())
		Expect(a.ID()).NotTo(Equal(b.ID()))
		Expect(a.Key()).To(Equal(path + "/" + a.ID()))
	})

	It("replays the current leader to a callback registered late", func() {
		a := newNode(cluster.Client(), path, locker.WithID("a"))
		write(a, "1")
		Eventually(a.Elected).WithTimeout(2 * time.Second).Should(BeTrue())

		late, err := locker.New(cluster.Client(), path)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(late.Close)
		got := make(chan change, 4)
		late.OnChange(func(value, leaderID string) { got <- change{leaderID, value} })
		Eventually(got).Should(Receive(Equal(change{"a", "1"})))

		selected := make(chan string, 4)
		a.OnSelect(func(ctx context.Context, value string) { selected <- value })
		Eventually(selected).Should(Receive(Equal("1")))
	})

	It("cancels the select context when it stops being elected", func() {
		a := newNode(cluster.Client(), path, locker.WithID("a"))
		write(a, "1")
		Eventually(a.Elected).WithTimeout(2 * time.Second).Should(BeTrue())
		Eventually(func() int { return len(a.Selects()) }).Should(Equal(1))
		ctx := a.ctxs[0]
		Expect(ctx.Err()).NotTo(HaveOccurred())
		Expect(a.Reset(context.Background())).To(Succeed())
		Expect(ctx.Err()).To(MatchError(context.Canceled), "cancelled before Reset returns")
	})

	It("records a compact history", func() {
		a := newNode(cluster.Client(), path, locker.WithID("a"))
		for i := range 12 {
			write(a, string(rune('a'+i)))
		}
		Eventually(a.Elected).WithTimeout(2 * time.Second).Should(BeTrue())
		h := a.History()
		Expect(len(h)).To(BeNumerically("<=", 16))
		last := h[len(h)-1]
		Expect(last.Kind).To(Equal(locker.EventSelected))
		Expect(last.LeaderID).To(Equal("a"))
		Expect(last.Value).To(Equal("l"))
		Expect(last.Revision).To(Equal(mustLeader(a).Revision))
		Expect(last.String()).To(ContainSubstring(`selected leader="a" value="l"`))
	})

	Describe("Close", func() {
		It("is idempotent, makes later calls fail, and stops callbacks", func() {
			a := newNode(cluster.Client(), path, locker.WithID("a"))
			write(a, "1")
			Expect(a.Close()).To(Succeed())
			Expect(a.Close()).To(Succeed())
			Expect(a.Closed()).To(BeTrue())
			Expect(a.Elected()).To(BeFalse())
			Expect(a.Write(context.Background(), "2")).To(MatchError(locker.ErrClosed))
			Expect(a.Reset(context.Background())).To(MatchError(locker.ErrClosed))
			Expect(truth(path)).To(Equal(change{}))
			Expect(leaseOfKey(a.Key())).To(BeZero())
		})

		It("may be called from a callback", func() {
			a := newNode(cluster.Client(), path, locker.WithID("a"))
			closed := make(chan error, 1)
			a.onSelect(func(ctx context.Context, _ string) { closed <- a.Close() })
			write(a, "1")
			var err error
			Eventually(closed).WithTimeout(3 * time.Second).Should(Receive(&err))
			Expect(err).NotTo(HaveOccurred())
			Expect(a.Closed()).To(BeTrue())
		})
	})
})

func mustLeader(n *recorder) locker.Leader {
	GinkgoHelper()
	l, ok := n.Leader()
	Expect(ok).To(BeTrue(), "%s sees no leader", n.ID())
	return l
}

func leaderOf(n *recorder) func() locker.Leader {
	return func() locker.Leader { l, _ := n.Leader(); return l }
}
