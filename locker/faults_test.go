package locker_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

// Property 5 (locker/doc.go). The bounds are the property's; the benchmarks show the typical figures.
var _ = Describe("Handover", func() {
	var (
		path  string
		nodes []*recorder
	)
	BeforeEach(func() {
		path = newPath()
		nodes = nil
		for i := range 3 {
			nodes = append(nodes, newNode(newClient(), path, locker.WithID(fmt.Sprintf("n%d", i)), locker.WithTTL(ttl)))
			write(nodes[i], "v")
		}
		waitElected(3*time.Second, nodes...)
	})

	handover := func(op func(leader *recorder)) time.Duration {
		GinkgoHelper()
		leader := waitElected(time.Second, nodes...)
		start := time.Now()
		op(leader)
		next := waitElected(3*time.Second, others(nodes, leader)...)
		return next.LastSelectAt().Sub(start)
	}

	It("by Reset, Write or Close of the leader elects the next node within 200ms", func() {
		for range 3 {
			Expect(handover(func(l *recorder) { Expect(l.Reset(context.Background())).To(Succeed()) })).To(BeNumerically("<=", 200*time.Millisecond))
			for _, n := range nodes {
				if _, joined := n.OwnValue(); !joined {
					write(n, "back")
				}
			}
			Expect(handover(func(l *recorder) { write(l, "new") })).To(BeNumerically("<=", 200*time.Millisecond))
		}
		Expect(handover(func(l *recorder) { Expect(l.Close()).To(Succeed()) })).To(BeNumerically("<=", 200*time.Millisecond))
	})

	It("after a crash of the leader (no revoke) elects the next node within TTL + 1s", func() {
		leader := waitElected(time.Second, nodes...)
		ttl := locker.Granted(leader.Node)
		start := time.Now()
		locker.Abandon(leader.Node)
		next := waitElected(ttl+3*time.Second, others(nodes, leader)...)
		Expect(next.LastSelectAt().Sub(start)).To(BeNumerically("<=", ttl+time.Second))
	})
})

// Property 6 (locker/doc.go).
var _ = Describe("A leader whose client talks to every member", func() {
	It("keeps leadership while any one member, the raft leader included, is killed and restarted", func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster)
		path := newPath()
		var nodes []*recorder
		for i := range 3 {
			nodes = append(nodes, newNode(newClient(), path, locker.WithID(fmt.Sprintf("n%d", i))))
			write(nodes[i], "v")
		}
		leader := waitElected(3*time.Second, nodes...)
		token := mustLeader(leader).Revision
		s := startSampler(nodes...)

		raftLeader, err := cluster.Leader(ctx)
		Expect(err).NotTo(HaveOccurred())
		order := []*etcdtest.Member{raftLeader}
		for _, m := range cluster.Members() {
			if m != raftLeader {
				order = append(order, m)
			}
		}
		for _, m := range order {
			Expect(m.Kill()).To(Succeed())
			Consistently(func() []string { return electedOf(nodes...) }).WithTimeout(500*time.Millisecond).WithPolling(5*time.Millisecond).
				Should(Equal([]string{leader.ID()}), "while %s is down", m.Name())
			Expect(m.Restart(ctx)).To(Succeed())
			Consistently(func() []string { return electedOf(nodes...) }).WithTimeout(200*time.Millisecond).WithPolling(5*time.Millisecond).
				Should(Equal([]string{leader.ID()}), "after %s restarted", m.Name())
		}
		Expect(mustLeader(leader).Revision).To(Equal(token))
		Expect(leader.Selects()).To(Equal([]int64{token}))
		for _, e := range leader.History() {
			Expect(e.Kind).NotTo(BeElementOf(locker.EventDeselected, locker.EventLost), "%v", leader.History())
		}
		Expect(s.Stop()).To(matchers.BeSafe())
	})
})

// Property 7 (locker/doc.go).
var _ = Describe("A node that loses its session", func() {
	var path string
	BeforeEach(func() { path = newPath() })

	// candidates returns the candidate keys under path and checks each is
	// under a live lease: no stale keys.
	candidates := func() []string {
		GinkgoHelper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		layout := locker.NewLayout(path)
		resp, err := cluster.Client().Get(ctx, layout.Prefix(), clientv3.WithPrefix())
		Expect(err).NotTo(HaveOccurred())
		var keys []string
		for _, kv := range resp.Kvs {
			ttl, err := cluster.Client().TimeToLive(ctx, clientv3.LeaseID(kv.Lease))
			Expect(err).NotTo(HaveOccurred())
			Expect(ttl.TTL).To(BeNumerically(">=", 0), "key %s under dead lease %x", kv.Key, kv.Lease) // -1: gone
			if _, ok := layout.Candidate(string(kv.Key)); ok {
				keys = append(keys, string(kv.Key))
			}
		}
		slices.Sort(keys)
		return keys
	}

	It("rejoins by itself with a new lease after its lease is revoked", func() {
		a := newNode(newClient(), path, locker.WithID("a"))
		b := newNode(newClient(), path, locker.WithID("b"))
		write(a, "1")
		write(b, "2")
		waitElected(3*time.Second, a, b)
		old := leaseOfKey(a.Key())
		oldRev := mustLeader(a).Revision
		revoke(cluster.Client(), old)

		Eventually(b.Elected).WithTimeout(2 * time.Second).Should(BeTrue())
		Eventually(func() clientv3.LeaseID { return leaseOfKey(a.Key()) }).Should(And(Not(BeZero()), Not(Equal(old))))
		Expect(mustLeaderKey(a.Key())).To(BeNumerically(">", oldRev))
		Expect(candidates()).To(Equal([]string{a.Key(), b.Key()}))
		Expect(b.Close()).To(Succeed())
		Eventually(a.Elected).WithTimeout(2 * time.Second).Should(BeTrue())
		Expect(mustLeader(a).Value).To(Equal("1"), "with its last written value")
		Expect(a.History()).To(ContainElement(HaveField("Kind", locker.EventLost)))
	})

	It("rejoins by itself after its lease expired while its member was frozen", func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster)
		raftLeader, err := cluster.Leader(ctx)
		Expect(err).NotTo(HaveOccurred())
		x := slices.IndexFunc(cluster.Members(), func(m *etcdtest.Member) bool { return m != raftLeader })
		a := newNode(memberOf(x).Client(), path, locker.WithID("a"), locker.WithTTL(ttl))
		b := newNode(clientAvoiding(x), path, locker.WithID("b"))
		write(a, "1")
		write(b, "2")
		waitElected(3*time.Second, a, b)
		old := leaseOfKey(a.Key())

		Expect(memberOf(x).Pause()).To(Succeed())
		Eventually(b.Elected).WithTimeout(ttl + 3*time.Second).Should(BeTrue())
		Expect(a.Elected()).To(BeFalse())
		Expect(memberOf(x).Resume()).To(Succeed())

		Eventually(func() clientv3.LeaseID { return leaseOfKey(a.Key()) }).WithTimeout(3 * time.Second).Should(And(Not(BeZero()), Not(Equal(old))))
		Expect(candidates()).To(Equal([]string{a.Key(), b.Key()}))
	})

	It("is gone without a trace after Close: no keys, no lease, no goroutines", func() {
		client := newClient()
		_, err := client.Get(context.Background(), "warm-up") // the client's own goroutines
		Expect(err).NotTo(HaveOccurred())
		// Count the locker's own goroutines: the process also runs the
		// suite's cluster (etcdtest's peer proxies come and go) and the client.
		base := lockerGoroutines()

		a, err := locker.New(client, path, locker.WithID("a"))
		Expect(err).NotTo(HaveOccurred())
		b, err := locker.New(client, path, locker.WithID("b"))
		Expect(err).NotTo(HaveOccurred())
		Expect(a.Write(context.Background(), "1")).To(Succeed())
		Expect(b.Write(context.Background(), "2")).To(Succeed())
		a.OnSelect(func(ctx context.Context, _ string) { go func() { <-ctx.Done() }() })
		Eventually(a.Elected).WithTimeout(2 * time.Second).Should(BeTrue())
		Expect(lockerGoroutines()).To(BeNumerically(">", base))

		Expect(a.Close()).To(Succeed())
		Expect(b.Close()).To(Succeed())
		Expect(candidates()).To(BeEmpty())
		Eventually(lockerGoroutines).WithTimeout(2*time.Second).Should(BeNumerically("<=", base), func() string {
			buf := make([]byte, 1<<16)
			return string(buf[:runtime.Stack(buf, true)])
		})
	})
})

// lockerGoroutines counts the goroutines running code of package locker.
func lockerGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "etcd-test-cluster/locker.") {
			n++
		}
	}
	return n
}
