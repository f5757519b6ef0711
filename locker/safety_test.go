package locker_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

// pinnedNodes creates one node per member, each talking to that member only.
func pinnedNodes(path string, opts ...locker.Option) []*recorder {
	GinkgoHelper()
	var nodes []*recorder
	for i, m := range cluster.Members() {
		nodes = append(nodes, newNode(m.Client(), path, append([]locker.Option{locker.WithID(fmt.Sprintf("n%d", i))}, opts...)...))
	}
	for i, n := range nodes {
		write(n, fmt.Sprintf("v%d", i))
	}
	return nodes
}

func indexOf(nodes []*recorder, n *recorder) int {
	for i, x := range nodes {
		if x == n {
			return i
		}
	}
	panic("not a node")
}

func others(nodes []*recorder, n *recorder) []*recorder {
	var out []*recorder
	for _, x := range nodes {
		if x != n {
			out = append(out, x)
		}
	}
	return out
}

// clientAvoiding is a client on every member but member i.
func clientAvoiding(i int) *clientv3.Client {
	GinkgoHelper()
	var eps []string
	for j, ep := range cluster.Endpoints() {
		if j != i {
			eps = append(eps, ep)
		}
	}
	return newClient(eps...)
}

// revoke revokes lease, retrying with short attempts: a request that reached
// a raft leader just paused is lost with it, and etcd would only say so after
// its 5 s request timeout. A retry that finds the lease gone has succeeded.
func revoke(c *clientv3.Client, lease clientv3.LeaseID) {
	GinkgoHelper()
	Eventually(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := c.Revoke(ctx, lease)
		if errors.Is(err, rpctypes.ErrLeaseNotFound) {
			return nil
		}
		return err
	}).WithTimeout(10 * time.Second).WithPolling(10 * time.Millisecond).Should(Succeed())
}

// Property 1 (locker/doc.go).
var _ = Describe("At most one node believes it is elected at any instant", func() {
	var path string
	BeforeEach(func() {
		etcdtest.SkipIfExternal(cluster)
		path = newPath()
	})

	It("when the leader's etcd member is killed", func(ctx SpecContext) {
		nodes := pinnedNodes(path, locker.WithTTL(ttl))
		leader := waitElected(3*time.Second, nodes...)
		s := startSampler(nodes...)

		m := memberOf(indexOf(nodes, leader))
		Expect(m.Kill()).To(Succeed())
		Eventually(leader.Elected).WithTimeout(locker.BeliefWindow + 500*time.Millisecond).WithPolling(time.Millisecond).Should(BeFalse())
		next := waitElected(ttl+3*time.Second, others(nodes, leader)...)
		Expect(m.Restart(ctx)).To(Succeed())
		Consistently(func() []string { return electedOf(nodes...) }).WithTimeout(200 * time.Millisecond).Should(Equal([]string{next.ID()}))

		Expect(s.Stop()).To(matchers.BeSafe())
		Expect(s.Samples()).To(BeNumerically(">", 500))
	})

	It("when the leader's member is paused and its lease is revoked by another client", func() {
		nodes := pinnedNodes(path, locker.WithTTL(ttl))
		leader := waitElected(3*time.Second, nodes...)
		i := indexOf(nodes, leader)
		lease := leaseOfKey(leader.Key())
		outside := clientAvoiding(i)
		s := startSampler(nodes...)

		Expect(memberOf(i).Pause()).To(Succeed())
		revoke(outside, lease)
		next := waitElected(3*time.Second, others(nodes, leader)...)
		Expect(leader.Elected()).To(BeFalse())
		Expect(memberOf(i).Resume()).To(Succeed())

		// The old leader finds out, and rejoins with a new lease.
		Eventually(func() clientv3.LeaseID { return leaseOfKey(leader.Key()) }).WithTimeout(5 * time.Second).
			Should(And(Not(BeZero()), Not(Equal(lease))))
		// The rejoined node queues behind next and never believes while next
		// lives (next itself may lapse for a moment on a loaded machine).
		Consistently(func() []string { return electedOf(nodes...) }).WithTimeout(200 * time.Millisecond).
			Should(Or(BeEmpty(), Equal([]string{next.ID()})))
		Expect(s.Stop()).To(matchers.BeSafe())
	})

	It("when the leader's process stops answering (crashed or frozen)", func() {
		nodes := pinnedNodes(path, locker.WithTTL(ttl))
		leader := waitElected(3*time.Second, nodes...)
		s := startSampler(nodes...)

		locker.Abandon(leader.Node)
		Eventually(leader.Elected).WithTimeout(locker.BeliefWindow + 500*time.Millisecond).WithPolling(time.Millisecond).Should(BeFalse())
		waitElected(ttl+3*time.Second, others(nodes, leader)...)
		Expect(s.Stop()).To(matchers.BeSafe())
	})

	It("through graceful handovers: Reset, Write and Close by the leader", func() {
		var nodes []*recorder
		for i := range 4 {
			nodes = append(nodes, newNode(newClient(), path, locker.WithID(fmt.Sprintf("n%d", i))))
			write(nodes[i], "v")
		}
		s := startSampler(nodes...)
		for round := range 3 {
			leader := waitElected(3*time.Second, nodes...)
			Expect(leader.Reset(context.Background())).To(Succeed())
			waitElected(time.Second, nodes...)
			write(leader, fmt.Sprintf("back %d", round))
			leader = waitElected(time.Second, nodes...)
			write(leader, fmt.Sprintf("again %d", round))
		}
		leader := waitElected(time.Second, nodes...)
		Expect(leader.Close()).To(Succeed())
		waitElected(time.Second, others(nodes, leader)...)
		Expect(s.Stop()).To(matchers.BeSafe())
	})
})

// Property 2 (locker/doc.go).
var _ = Describe("No phantom election", func() {
	var (
		path     string
		mu       sync.Mutex
		phantoms []string
	)
	BeforeEach(func() {
		etcdtest.SkipIfExternal(cluster)
		path = newPath()
		mu.Lock()
		phantoms = nil
		mu.Unlock()
	})

	// audit checks, every time n is selected, that its key exists under a
	// live lease with the create revision it was elected with.
	audit := func(n *recorder) {
		n.onSelect(func(ctx context.Context, _ string) {
			want, _ := n.Leader()
			c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			resp, err := cluster.Client().Get(c, n.Key())
			var problem string
			switch {
			case err != nil:
				problem = err.Error()
			case len(resp.Kvs) == 0:
				problem = "no key"
			case resp.Kvs[0].CreateRevision != want.Revision:
				problem = fmt.Sprintf("key created at %d, elected as %d", resp.Kvs[0].CreateRevision, want.Revision)
			default:
				ttlResp, err := cluster.Client().TimeToLive(c, clientv3.LeaseID(resp.Kvs[0].Lease))
				if err != nil || ttlResp.TTL < 0 { // -1: gone
					problem = fmt.Sprintf("lease %x not alive (%v)", resp.Kvs[0].Lease, err)
				}
			}
			if problem != "" && ctx.Err() == nil {
				mu.Lock()
				phantoms = append(phantoms, n.ID()+": "+problem)
				mu.Unlock()
			}
		})
	}

	It("a waiter whose lease is revoked while its member is paused is not elected when the leader resigns", func(ctx SpecContext) {
		leaderM, err := cluster.Leader(ctx)
		Expect(err).NotTo(HaveOccurred())
		x := 0
		for i, m := range cluster.Members() {
			if m != leaderM {
				x = i
			}
		}
		// b talks only to member x; the others and the test avoid it, so
		// nothing but b's view stalls while x is paused.
		outside := clientAvoiding(x)
		a := newNode(outside, path, locker.WithID("a"))
		b := newNode(memberOf(x).Client(), path, locker.WithID("b"))
		c := newNode(outside, path, locker.WithID("c"))
		for _, n := range []*recorder{a, b, c} {
			audit(n)
		}
		write(a, "1")
		write(b, "2")
		write(c, "3")
		waitElected(3*time.Second, a, b, c)
		Expect(a.Elected()).To(BeTrue())
		oldB := mustLeaderKey(b.Key())
		leaseB := leaseOfKey(b.Key())

		Expect(memberOf(x).Pause()).To(Succeed())
		revoke(outside, leaseB)
		Expect(a.Reset(ctx)).To(Succeed())
		Eventually(c.Elected).Should(BeTrue())
		Consistently(b.Elected).WithTimeout(300 * time.Millisecond).Should(BeFalse())
		Expect(memberOf(x).Resume()).To(Succeed())

		Eventually(func() int64 { return mustLeaderKey(b.Key()) }).WithTimeout(5 * time.Second).Should(BeNumerically(">", oldB))
		Expect(c.Close()).To(Succeed())
		Eventually(b.Elected).WithTimeout(2 * time.Second).Should(BeTrue())
		Expect(mustLeader(b).Revision).To(BeNumerically(">", oldB))
		mu.Lock()
		defer mu.Unlock()
		Expect(phantoms).To(BeEmpty())
	})

	It("a waiter whose key another client deletes rejoins at the back of the line", func(ctx SpecContext) {
		a := newNode(newClient(), path, locker.WithID("a"))
		b := newNode(newClient(), path, locker.WithID("b"))
		c := newNode(newClient(), path, locker.WithID("c"))
		for _, n := range []*recorder{a, b, c} {
			audit(n)
		}
		write(a, "1")
		write(b, "2")
		write(c, "3")
		waitElected(3*time.Second, a, b, c)
		oldB := mustLeaderKey(b.Key())
		_, err := cluster.Client().Delete(ctx, b.Key())
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() int64 { return mustLeaderKey(b.Key()) }).Should(BeNumerically(">", mustLeaderKey(c.Key())))
		Expect(a.Reset(ctx)).To(Succeed())
		Eventually(c.Elected).Should(BeTrue())
		Expect(b.Elected()).To(BeFalse())
		Expect(oldB).To(BeNumerically("<", mustLeaderKey(c.Key())))
		mu.Lock()
		defer mu.Unlock()
		Expect(phantoms).To(BeEmpty())
	})
})

// mustLeaderKey is the create revision of key, 0 if it does not exist.
func mustLeaderKey(key string) int64 {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := cluster.Client().Get(ctx, key)
	Expect(err).NotTo(HaveOccurred())
	if len(resp.Kvs) == 0 {
		return 0
	}
	return resp.Kvs[0].CreateRevision
}

// Property 3 (locker/doc.go).
var _ = Describe("The fencing token", func() {
	It("strictly increases with every new election, whatever ends the last one", func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster)
		path := newPath()
		var (
			mu     sync.Mutex
			tokens []int64
		)
		var nodes []*recorder
		for i := range 4 {
			n := newNode(newClient(), path, locker.WithID(fmt.Sprintf("n%d", i)), locker.WithTTL(ttl))
			n.onSelect(func(context.Context, string) {
				l, _ := n.Leader()
				mu.Lock()
				tokens = append(tokens, l.Revision)
				mu.Unlock()
			})
			write(n, "v")
			nodes = append(nodes, n)
		}
		elections := 0
		next := func(from *recorder, alive []*recorder) *recorder {
			GinkgoHelper()
			elections++
			Eventually(func() int { mu.Lock(); defer mu.Unlock(); return len(tokens) }).WithTimeout(ttl + 3*time.Second).Should(Equal(elections))
			return waitElected(time.Second, alive...)
		}
		l := next(nil, nodes)

		write(l, "written by the leader") // resign, rejoin at the back
		l = next(l, nodes)
		Expect(l.Reset(ctx)).To(Succeed())
		prev := l
		l = next(l, nodes)
		write(prev, "back")
		revoke(cluster.Client(), clientv3.LeaseID(locker.LeaseOf(l.Node)))
		l = next(l, nodes)
		locker.Abandon(l.Node) // a crash: no revoke
		alive := others(nodes, l)
		l = next(l, alive)
		Expect(l.Close()).To(Succeed())
		alive = others(alive, l)
		next(l, alive)

		mu.Lock()
		defer mu.Unlock()
		Expect(tokens).To(HaveLen(elections))
		for i := 1; i < len(tokens); i++ {
			Expect(tokens[i]).To(BeNumerically(">", tokens[i-1]), "tokens %v", tokens)
		}
	})

	It("grows when a lone leader writes: it resigns and is elected again", func() {
		a := newNode(newClient(), newPath(), locker.WithID("a"))
		write(a, "1")
		Eventually(a.Elected).WithTimeout(2 * time.Second).Should(BeTrue())
		first := mustLeader(a).Revision
		write(a, "2")
		Eventually(func() []int64 { return a.Selects() }).Should(HaveLen(2))
		Expect(a.Selects()[1]).To(BeNumerically(">", first))
		Expect(a.Changes()).To(Equal([]change{{"a", "1"}, {"", ""}, {"a", "2"}}))
	})
})
