package history_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

// Each spec runs the store — correct, or with one bug — as three simulated
// processes under the same seeded schedule, then checks the history. The
// buggy stores must fail the check in every run, so the schedule and the
// workload are chosen to make each bug show for certain:
//
//   - Only cut-offs (Isolate, Partition), one member at a time (no
//     Majority target): a cut-off member answers serializable reads from
//     its old state, and the other two keep a quorum and go on writing.
//     Each process is pinned to its own member, so whichever member is
//     cut off, one process reads through it.
//   - Holds of at least 600 ms: the cut-off member's process finishes a
//     round (its writes time out after opTimeout) and reads again while
//     the others' writes are acknowledged.
//   - All three processes increment one counter in every round, hundreds
//     of times each: without a compare-and-swap, increments that overlap
//     are lost many times over, far more than the few increments of
//     unknown outcome (cut off mid-call) could account for.
func schedule(h *chaos.History) chaos.Options {
	return chaos.Options{
		Seed:     7,
		Duration: 4 * time.Second,
		Faults:   []chaos.Fault{chaos.Isolate, chaos.Partition},
		Targets:  []chaos.Target{chaos.RaftLeader, chaos.Minority, chaos.Random},
		MinHold:  600 * time.Millisecond,
		MaxHold:  time.Second,
		History:  h, // the check names the faults in force at each call, and the picture shows them
	}
}

const (
	processes = 3
	opTimeout = 250 * time.Millisecond // per store call: a call through a cut-off member gives up
	maxRounds = 2000                   // per process: the loop is bounded whatever the machine's speed
)

// configKeys are the config values every process sets and reads in turn.
var configKeys = []string{"color", "size", "mode"}

var _ = Describe("A config store under one seeded fault schedule", func() {
	BeforeEach(func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster) // chaos.Run needs a cluster it can break
		Expect(cluster.Reset(ctx)).To(Succeed())
		// The pictures of the failures this suite expects go to
		// $CHAOS_ARTIFACTS, else a directory of the system's temp dir,
		// not into the package directory.
		if os.Getenv(chaos.EnvArtifacts) == "" {
			GinkgoT().Setenv(chaos.EnvArtifacts, filepath.Join(os.TempDir(), "etcd-test-cluster-examples-history"))
		}
	}, NodeTimeout(10*time.Second))

	It("passes when it reads linearizably and increments with a compare-and-swap", func(ctx SpecContext) {
		h, _ := runStore(ctx, NoBug)
		Expect(h).To(matchers.BeLinearizable())
		Expect(cluster).To(matchers.BeConsistent())
	}, SpecTimeout(time.Minute))

	It("is caught at the KV level when it reads serializably", func(ctx SpecContext) {
		h, _ := runStore(ctx, StaleReads)
		msg := notLinearizable(h)
		// A stale Get of a config key: BeLinearizable names the key, the
		// process, the faults in force, and that the read was
		// serializable.
		Expect(msg).To(MatchRegexp(`key "/stale-reads/(color|size|mode)": no order`))
		Expect(msg).To(ContainSubstring("the read was serializable"))
		Expect(msg).To(MatchRegexp(`Picture: \S+\.html`))

		// etcd documents stale serializable reads, and
		// AllowStaleSerializable accepts them at the KV level — but not in
		// the store's own promise: its counter went back.
		r := h.CheckLinearizable(chaos.AllowStaleSerializable())
		Expect(r.OK()).To(BeFalse(), "a stale count is still a count that went back")
		for _, v := range r.Violations {
			Expect(v.API).To(Equal("hits"), r.String())
		}
		Expect(cluster).To(matchers.BeConsistent(), "etcd itself stayed consistent: the bug is the store's")
	}, SpecTimeout(time.Minute))

	It("is caught by the counter's own model when it increments without a compare-and-swap", func(ctx SpecContext) {
		h, hits := runStore(ctx, LostUpdates)
		msg := notLinearizable(h)
		// Every Get and Put etcd served was correct: no key is named,
		// only the store's API, whose reads show fewer increments than
		// were acknowledged.
		Expect(msg).To(ContainSubstring(`API "hits": no order`))
		Expect(msg).NotTo(ContainSubstring(`key "`))
		Expect(msg).To(MatchRegexp(`Picture: \S+\.html`))
		acked, final := tally(hits)
		Expect(final).To(BeNumerically("<", acked), "the counter ends below the increments acknowledged")
		Expect(cluster).To(matchers.BeConsistent())
	}, SpecTimeout(time.Minute))
})

// runStore runs the store built with bug as three processes, each on a
// recorded client pinned to its own member, under schedule; then every
// process reads the counter once more on the healed cluster, and the
// history is stopped. It returns the history and the counter's API in it.
func runStore(ctx SpecContext, bug Bug) (*chaos.History, *chaos.API) {
	GinkgoHelper()
	DeferCleanup(cluster.Heal) // Run heals before it returns; this is for a spec that fails mid-run
	h := chaos.NewHistory()
	hits := h.API("hits", chaos.Counter())
	prefix := "/" + string(bug) + "/"
	var stores []*Store
	for i := range processes {
		stores = append(stores, NewStore(h.Client(cluster.Member(i).Client()), prefix, bug))
	}

	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for id, s := range stores {
		wg.Go(func() { process(wctx, id, s, hits) })
	}
	tl, err := chaos.Run(ctx, cluster, schedule(h))
	stop()
	wg.Wait()
	Expect(err).NotTo(HaveOccurred(), tl.Replay())
	AddReportEntry("faults", tl.String())
	Expect(h.Faults()).NotTo(BeEmpty(), "the schedule cut members off")

	for id, s := range stores { // on the healed cluster: the counter's final value
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		readHits(rctx, id, s, hits)
		cancel()
	}
	h.Stop()
	acked, final := tally(hits)
	AddReportEntry("recorded", fmt.Sprintf("%d KV calls, %d fault windows; counter: %d increments acknowledged, %d calls of it in all, its value at the end %d",
		len(h.Operations()), len(h.Faults()), acked, len(hits.Operations()), final))
	return h, hits
}

// tally counts the increments acknowledged in the counter's calls, and
// returns the value its last read returned.
func tally(hits *chaos.API) (acked, final int64) {
	for _, op := range hits.Operations() {
		switch op.Input.(type) {
		case chaos.Add:
			if op.Output != chaos.Unknown {
				acked++
			}
		case chaos.ReadCounter:
			if n, ok := op.Output.(int64); ok {
				final = n
			}
		}
	}
	return acked, final
}

// process is one simulated process using the store: round after round it
// sets and reads a config value, increments the counter "hits" and reads
// it, each call bounded by opTimeout, until ctx ends.
func process(ctx context.Context, id int, s *Store, hits *chaos.API) {
	for n := 0; n < maxRounds && ctx.Err() == nil; n++ {
		key := configKeys[n%len(configKeys)]
		bounded(ctx, func(ctx context.Context) { _ = s.Set(ctx, key, fmt.Sprintf("p%d-%d", id, n)) })
		bounded(ctx, func(ctx context.Context) { _, _ = s.Get(ctx, key) })
		bounded(ctx, func(ctx context.Context) { increment(ctx, id, s, hits) })
		bounded(ctx, func(ctx context.Context) { readHits(ctx, id, s, hits) })
	}
}

func bounded(ctx context.Context, f func(context.Context)) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	f(ctx)
}

// increment records an Increment as a call of the counter API: chaos.Add.
// An error leaves its outcome unknown — a timed-out Increment may have
// been applied — and the model lets it count or not.
func increment(ctx context.Context, id int, s *Store, hits *chaos.API) {
	call := hits.Call(id, chaos.Add{N: 1})
	if _, err := s.Increment(ctx, "hits"); err != nil {
		call.Unknown()
		return
	}
	call.Return(nil)
}

// readHits records a read of the counter: chaos.ReadCounter, whose output
// is the value read. A read that failed tells nothing: Unknown.
func readHits(ctx context.Context, id int, s *Store, hits *chaos.API) {
	call := hits.Call(id, chaos.ReadCounter{})
	n, err := s.Count(ctx, "hits")
	if err != nil {
		call.Unknown()
		return
	}
	call.Return(n)
}

// notLinearizable runs BeLinearizable on h as Expect would, expects it to
// fail, and returns its failure message — the one a user of the buggy
// store would see — after adding it to the report (go test -v, ginkgo -v).
func notLinearizable(h *chaos.History) string {
	GinkgoHelper()
	m := matchers.BeLinearizable()
	ok, err := m.Match(h)
	Expect(err).NotTo(HaveOccurred())
	Expect(ok).To(BeFalse(), "the bug went unnoticed: BeLinearizable passed")
	msg := m.FailureMessage(h) // writes the picture and names its path
	AddReportEntry("BeLinearizable's failure message", msg)
	return msg
}
