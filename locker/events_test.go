package locker_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
)

// observer computes, from its own watch on path, the sequence of (leader,
// value) etcd went through: what every node's OnChange must report. Its
// watch cannot recover from a compaction, so a spec that kills a member and
// compacts must give it a client that avoids that member.
type observer struct {
	mu      sync.Mutex
	changes []change
}

func observe(cli *clientv3.Client, path string) *observer {
	GinkgoHelper()
	o := &observer{}
	keys := locker.NewLayout(path)
	ctx, cancel := context.WithCancel(context.Background())
	DeferCleanup(cancel)
	resp, err := cli.Get(ctx, keys.Prefix(), clientv3.WithPrefix())
	Expect(err).NotTo(HaveOccurred())
	Expect(resp.Kvs).To(BeEmpty(), "observe before anything happens")
	wch := cli.Watch(ctx, keys.Prefix(), clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))
	go func() {
		type cand struct {
			rev   int64
			value string
		}
		view := map[string]cand{}
		last := change{}
		for wr := range wch {
			if err := wr.Err(); err != nil && ctx.Err() == nil {
				// Say so where a spec compares changes, rather than trail silently.
				o.mu.Lock()
				o.changes = append(o.changes, change{"observer's watch ended", err.Error()})
				o.mu.Unlock()
				return
			}
			for i, ev := range wr.Events {
				id, candidate := keys.Candidate(string(ev.Kv.Key))
				switch {
				case !candidate: // a resign marker
				case ev.Type == clientv3.EventTypeDelete:
					delete(view, id)
				default:
					view[id] = cand{ev.Kv.CreateRevision, string(ev.Kv.Value)}
				}
				if i+1 < len(wr.Events) && wr.Events[i+1].Kv.ModRevision == ev.Kv.ModRevision {
					continue // the rest of this revision first
				}
				cur, first := change{}, int64(0)
				for id, c := range view {
					if first == 0 || c.rev < first {
						cur, first = change{id, c.value}, c.rev
					}
				}
				if cur != last {
					last = cur
					o.mu.Lock()
					o.changes = append(o.changes, cur)
					o.mu.Unlock()
				}
			}
		}
	}()
	return o
}

func (o *observer) Changes() []change {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]change(nil), o.changes...)
}

// selectsFollowChanges checks that every select in a node's log comes after
// a change naming that node, with no other change in between.
func selectsFollowChanges(n *recorder) {
	GinkgoHelper()
	var last entry
	for _, e := range n.Log() {
		if e.kind == "change" {
			last = e
			continue
		}
		Expect(last.leaderID).To(Equal(n.ID()), "%s selected after change %+v", n.ID(), last)
	}
}

func noRepeats(cs []change) {
	GinkgoHelper()
	for i := 1; i < len(cs); i++ {
		Expect(cs[i]).NotTo(Equal(cs[i-1]), "repeated change at %d in %v", i, cs)
	}
}

// Property 4 (locker/doc.go).
var _ = Describe("Change events", func() {
	It("on every node follow etcd's revisions exactly, including no leader, and come before select", func(ctx SpecContext) {
		path := newPath()
		var nodes []*recorder
		for _, id := range []string{"a", "b", "c", "d"} {
			nodes = append(nodes, newNode(newClient(), path, locker.WithID(id)))
		}
		a, b, c, d := nodes[0], nodes[1], nodes[2], nodes[3]
		watcher := newNode(cluster.Client(), path, locker.WithID("watcher")) // never joins
		o := observe(cluster.Client(), path)

		write(a, "1")
		write(b, "2")
		write(c, "3")
		waitElected(2*time.Second, nodes...)
		write(b, "2b") // not the leader: no change
		write(a, "1b") // the leader: b is elected
		write(b, "2c") // the leader again: c is elected
		write(c, "3")  // same value, new election: a
		write(d, "4")  // joins at the back
		Expect(a.Reset(ctx)).To(Succeed())
		waitElected(2*time.Second, nodes...)
		for _, n := range nodes {
			Expect(n.Reset(ctx)).To(Succeed()) // no leader
		}
		write(d, "4b")
		write(c, "3c")
		Expect(d.Close()).To(Succeed())
		waitElected(2*time.Second, a, b, c)

		Eventually(func() change { o.mu.Lock(); defer o.mu.Unlock(); return o.changes[len(o.changes)-1] }).Should(Equal(truth(path)))
		want := o.Changes()
		Expect(want).To(ContainElement(change{}), "the sequence includes a time with no leader")
		for _, n := range []*recorder{a, b, c, watcher} {
			Eventually(n.Changes).WithTimeout(time.Second).Should(Equal(want), "node %s", n.ID())
		}
		got := d.Changes() // closed half way: a prefix
		Expect(len(got)).To(BeNumerically("<=", len(want)))
		Expect(got).To(Equal(want[:len(got)]))
		for _, n := range nodes {
			selectsFollowChanges(n)
		}
	})

	It("converge after the watch lost revisions to a compaction", func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster)
		path := newPath()
		x := 2
		outside := clientAvoiding(x)
		a := newNode(outside, path, locker.WithID("a"))
		b := newNode(memberOf(x).Client(), path, locker.WithID("b"))
		c := newNode(outside, path, locker.WithID("c"))
		o := observe(outside, path)
		write(a, "1")
		write(b, "2")
		write(c, "3")
		waitElected(2*time.Second, a, b, c)
		Eventually(b.Changes).Should(Equal([]change{{"a", "1"}}))

		// b's watch breaks and resumes after the revisions it missed are compacted.
		Expect(memberOf(x).Kill()).To(Succeed())
		Expect(a.Reset(ctx)).To(Succeed()) // b is first in line now
		write(c, "3b")
		resp, err := outside.Put(ctx, path+"-unrelated", "x")
		Expect(err).NotTo(HaveOccurred())
		_, err = outside.Compact(ctx, resp.Header.Revision, clientv3.WithCompactPhysical())
		Expect(err).NotTo(HaveOccurred())
		Expect(memberOf(x).Restart(ctx)).To(Succeed())

		Eventually(b.Elected).WithTimeout(3 * time.Second).Should(BeTrue())
		Eventually(b.Changes).WithTimeout(time.Second).Should(HaveLen(2))
		Expect(b.Changes()).To(Equal([]change{{"a", "1"}, {"b", "2"}}))
		// The observer may trail; compare c with it once it has caught up.
		Eventually(o.Changes).Should(Equal([]change{{"a", "1"}, {"b", "2"}}))
		Eventually(c.Changes).Should(Equal(o.Changes()))
		selectsFollowChanges(b)
		noRepeats(b.Changes())
		Expect(b.History()).To(ContainElement(HaveField("Kind", locker.EventSelected)))
	})

	It("are delivered one at a time, in order, even when a callback is slow", func() {
		path := newPath()
		a := newNode(newClient(), path, locker.WithID("a"))
		w, err := locker.New(cluster.Client(), path)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(w.Close)
		var (
			mu      sync.Mutex
			running int
			overlap bool
			got     []string
		)
		w.OnChange(func(value, leaderID string) {
			mu.Lock()
			running++
			overlap = overlap || running > 1
			got = append(got, leaderID+"="+value)
			mu.Unlock()
			time.Sleep(20 * time.Millisecond) // a slow callback, not a wait for state
			mu.Lock()
			running--
			mu.Unlock()
		})
		for i := range 5 {
			write(a, fmt.Sprint(i))
		}
		want := []string{"a=0", "=", "a=1", "=", "a=2", "=", "a=3", "=", "a=4"}
		Eventually(func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), got...) }).
			WithTimeout(3 * time.Second).Should(Equal(want))
		mu.Lock()
		defer mu.Unlock()
		Expect(overlap).To(BeFalse())
	})
})
