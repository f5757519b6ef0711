package chaos_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

// handOvers makes the elected node write a new value (a new election) or
// reset and rejoin, at seeded random times until ctx ends: the graceful
// hand-overs that interleave with Run's faults.
func handOvers(ctx context.Context, seed int64, nodes []*locker.Node) error {
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Duration(500+rng.IntN(2500)) * time.Millisecond): // the pace of hand-overs, not a wait for state
		}
		reset := rng.IntN(2) == 0
		for i, n := range nodes {
			if !n.Elected() {
				continue
			}
			opCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			var err error
			if reset {
				if err = n.Reset(opCtx); err == nil {
					err = n.Write(opCtx, fmt.Sprintf("v%d-back", i+1))
				}
			} else {
				err = n.Write(opCtx, fmt.Sprintf("v%d-%d", i+1, rng.IntN(1000)))
			}
			cancel()
			if err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("hand-over by %s: %w", n.ID(), err)
			}
			break
		}
	}
}

var _ = Describe("locker under chaos", func() {
	It("keeps at most one node elected, tokens growing, and recovers after every fault", func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster)
		seed := time.Now().UnixNano()
		if s := os.Getenv("CHAOS_SEED"); s != "" {
			var err error
			seed, err = strconv.ParseInt(s, 10, 64)
			Expect(err).NotTo(HaveOccurred(), "CHAOS_SEED must be a number")
		}
		duration := 20 * time.Second
		if d := os.Getenv("CHAOS_DURATION"); d != "" {
			var err error
			duration, err = time.ParseDuration(d)
			Expect(err).NotTo(HaveOccurred(), "CHAOS_DURATION must be a Go duration, e.g. 10m")
		}
		faults, err := chaos.ParseFaults(os.Getenv("CHAOS_FAULTS")) // one kind alone, e.g. to count its lapses
		Expect(err).NotTo(HaveOccurred(), "CHAOS_FAULTS")
		replay := fmt.Sprintf("CHAOS_SEED=%d CHAOS_DURATION=%v go test ./chaos -run TestChaos -v", seed, duration)
		if faults != nil {
			replay = fmt.Sprintf("CHAOS_FAULTS=%q %s", os.Getenv("CHAOS_FAULTS"), replay)
		}
		AddReportEntry("replay", replay)
		GinkgoWriter.Printf("chaos: seed %d, duration %v; replay: %s\n", seed, duration, replay)

		// Three nodes, each talking to a different member through its own link.
		var (
			nodes []*locker.Node
			links []*etcdtest.ClientLink
		)
		for i := range 3 {
			link, err := cluster.NewClientLink(i)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(link.Close)
			n, err := locker.New(link.Client(), "/chaos/election", locker.WithID(fmt.Sprintf("n%d", i+1)), locker.WithTTL(time.Second))
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(n.Close)
			nodes, links = append(nodes, n), append(links, link)
		}
		rec := chaos.Record(chaos.Electors(nodes...)...)
		DeferCleanup(func() {
			rep := rec.Stop()
			AddReportEntry("election timeline", rep.String())
			if CurrentSpecReport().Failed() {
				if path, err := rep.SaveSVG(""); err == nil {
					AddReportEntry("picture", path)
				}
			}
		})
		for i, n := range nodes {
			Expect(n.Write(ctx, fmt.Sprintf("v%d-0", i+1))).To(Succeed())
		}
		Eventually(nodes).WithTimeout(5 * time.Second).Should(matchers.HaveExactlyOneElected())

		hctx, stopHandOvers := context.WithCancel(ctx)
		handOverErr := make(chan error, 1)
		go func() { handOverErr <- handOvers(hctx, seed, nodes) }()
		tl, err := chaos.Run(ctx, cluster, chaos.Options{
			Seed: seed, Duration: duration, Faults: faults, Links: links, Recording: rec,
			Log: GinkgoWriter,
			// Liveness: exactly one node is elected again within 5 s of every heal.
			Check: chaos.Within(5*time.Second, func(g Gomega) { g.Expect(nodes).To(matchers.HaveExactlyOneElected()) }),
		})
		stopHandOvers()
		AddReportEntry("fault steps", tl.String())
		Expect(err).NotTo(HaveOccurred(), "replay: %s", replay)
		Expect(<-handOverErr).To(Succeed())

		rep := rec.Stop()
		GinkgoWriter.Printf("chaos: %d fault steps; %s\n", len(tl.Steps), rep.Summary())
		Expect(rep).To(matchers.BeSafe(), "replay: %s", replay)
		Expect(rep.Samples).To(BeNumerically(">", 1000), "the recorder ran")
		Expect(rep.Elections()).To(BeNumerically(">=", 2), "faults moved the election")

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
