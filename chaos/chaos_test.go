package chaos_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/internal/electiontest"
	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
)

// selections records each election's fencing token, from every node's
// OnSelect; electiontest's sampler watches the nodes' belief meanwhile.
type selections struct {
	mu   sync.Mutex
	list []selection
}

type selection struct {
	at       time.Time
	node     string
	revision int64
}

var _ = Describe("locker under chaos", func() {
	It("keeps at most one node elected, tokens growing, and recovers after every fault", func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster)
		seed := uint64(time.Now().UnixNano())
		if s := os.Getenv("CHAOS_SEED"); s != "" {
			var err error
			seed, err = strconv.ParseUint(s, 10, 64)
			Expect(err).NotTo(HaveOccurred(), "CHAOS_SEED must be a number")
		}
		duration := 20 * time.Second
		if d := os.Getenv("CHAOS_DURATION"); d != "" {
			var err error
			duration, err = time.ParseDuration(d)
			Expect(err).NotTo(HaveOccurred(), "CHAOS_DURATION must be a Go duration, e.g. 10m")
		}
		AddReportEntry("replay", fmt.Sprintf("CHAOS_SEED=%d CHAOS_DURATION=%v go test ./chaos", seed, duration))
		GinkgoWriter.Printf("chaos: seed %d, duration %v\n", seed, duration)
		rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

		// Three nodes, each talking to a different member through its own link.
		const path = "/chaos/election"
		var (
			nodes []*locker.Node
			links []*etcdtest.ClientLink
			rec   = &selections{}
		)
		for i := range 3 {
			link, err := cluster.NewClientLink(i)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(link.Close)
			n, err := locker.New(link.Client(), path, locker.WithID(fmt.Sprintf("n%d", i+1)), locker.WithTTL(time.Second))
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(n.Close)
			n.OnSelect(func(ctx context.Context, value string) {
				l, _ := n.Leader()
				rec.mu.Lock()
				rec.list = append(rec.list, selection{at: time.Now(), node: n.ID(), revision: l.Revision})
				rec.mu.Unlock()
			})
			nodes, links = append(nodes, n), append(links, link)
		}
		sampler := electiontest.Sample(500*time.Microsecond, nodes...)
		DeferCleanup(sampler.Stop)
		for i, n := range nodes {
			Expect(n.Write(ctx, fmt.Sprintf("v%d-0", i+1))).To(Succeed())
		}
		exactlyOne := func() {
			GinkgoHelper()
			Eventually(func() []string { return electiontest.Elected(nodes...) }).WithTimeout(5 * time.Second).WithPolling(10 * time.Millisecond).Should(HaveLen(1))
		}
		exactlyOne()

		// One fault at a time, held for a random while, then healed.
		type fault struct {
			name   string
			inject func(i int) (heal func())
		}
		faults := []fault{
			{"kill member", func(i int) func() {
				Expect(cluster.Member(i).Kill()).To(Succeed())
				return func() { Expect(cluster.Member(i).Restart(ctx)).To(Succeed()) }
			}},
			{"pause member", func(i int) func() {
				Expect(cluster.Member(i).Pause()).To(Succeed())
				return func() { Expect(cluster.Member(i).Resume()).To(Succeed()) }
			}},
			{"isolate member", func(i int) func() {
				Expect(cluster.Isolate(i)).To(Succeed())
				return func() { Expect(cluster.Heal()).To(Succeed()) }
			}},
			{"cut client", func(i int) func() {
				links[i].Cut()
				return links[i].Restore
			}},
			{"leader writes", func(int) func() {
				for j, n := range nodes {
					if n.Elected() {
						wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
						Expect(n.Write(wctx, fmt.Sprintf("v%d-%d", j+1, rng.IntN(1000)))).To(Succeed())
						cancel()
					}
				}
				return func() {}
			}},
			{"leader resets", func(int) func() {
				for j, n := range nodes {
					if n.Elected() {
						rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
						Expect(n.Reset(rctx)).To(Succeed())
						cancel()
						return func() {
							wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
							defer cancel()
							Expect(nodes[j].Write(wctx, fmt.Sprintf("v%d-back", j+1))).To(Succeed())
						}
					}
				}
				return func() {}
			}},
		}
		var steps []string
		deadline := time.Now().Add(duration)
		for step := 0; time.Now().Before(deadline) && step < 10000; step++ {
			f := faults[rng.IntN(len(faults))]
			target := rng.IntN(3)
			hold := time.Duration(100+rng.IntN(1400)) * time.Millisecond
			steps = append(steps, fmt.Sprintf("%s %s(%d) for %v", time.Now().Format("15:04:05.000"), f.name, target, hold))
			heal := f.inject(target)
			select {
			case <-time.After(hold): // the fault lasts this long: a duration under test, not a wait for state
			case <-ctx.Done():
				heal()
				return
			}
			heal()
			exactlyOne()
		}
		AddReportEntry("fault steps", strings.Join(steps, "\n"))
		overlaps, samples := sampler.Stop(), sampler.Samples()

		rec.mu.Lock()
		defer rec.mu.Unlock()
		AddReportEntry("summary", fmt.Sprintf("%d fault steps, %d elections (selects), %d samples of every node's Elected()", len(steps), len(rec.list), samples))
		GinkgoWriter.Printf("chaos: %d fault steps, %d selects, %d samples\n", len(steps), len(rec.list), samples)
		Expect(overlaps).To(BeEmpty(), "two nodes believed they were elected at once (%d samples)", samples)
		Expect(samples).To(BeNumerically(">", 1000), "the sampler ran")
		Expect(len(rec.list)).To(BeNumerically(">=", 2), "faults moved the election")
		sel := slices.Clone(rec.list)
		slices.SortStableFunc(sel, func(a, b selection) int { return a.at.Compare(b.at) })
		for i := 1; i < len(sel); i++ {
			prev, cur := sel[i-1], sel[i]
			if cur.revision == prev.revision && cur.node == prev.node {
				continue // the same key regained belief after a lapse (e.g. a pause): the same election, not a new one
			}
			Expect(cur.revision).To(BeNumerically(">", prev.revision),
				"fencing token of select %d (%s at %v) does not exceed the previous one (%s)", i, cur.node, cur.at, prev.node)
		}

		// At the end every node agrees with etcd on the leader and its value.
		Eventually(func() []locker.Leader {
			var seen []locker.Leader
			for _, n := range nodes {
				l, _ := n.Leader()
				seen = append(seen, l)
			}
			return seen
		}).WithTimeout(5 * time.Second).Should(SatisfyAll(
			HaveLen(3),
			WithTransform(func(ls []locker.Leader) bool { return ls[0] == ls[1] && ls[1] == ls[2] && ls[0].ID != "" }, BeTrue()),
		))
	})
})
