package chaos_test

import (
	"context"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

// registrar keeps a service registered: its key under a lease, kept alive,
// and registered anew under a new lease whenever the lease is lost. renew
// false plants the classic bug: a lease granted once and never kept alive.
type registrar struct {
	cli   *clientv3.Client
	key   string
	ttl   int64
	renew bool
}

// run registers until ctx ends.
func (r *registrar) run(ctx context.Context) {
	for ctx.Err() == nil {
		alive, err := r.register(ctx)
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond): // the pace of retries while etcd refuses, not a wait for state
			}
			continue
		}
		for range alive { // until the lease is lost, or ctx ends
		}
	}
}

// register puts the key under a new lease and returns the lease's
// keep-alive responses (closed when it is lost; never sent on without
// renew, when it closes once ctx ends).
func (r *registrar) register(ctx context.Context) (<-chan *clientv3.LeaseKeepAliveResponse, error) {
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	lease, err := r.cli.Grant(cctx, r.ttl)
	if err != nil {
		return nil, err
	}
	if _, err := r.cli.Put(cctx, r.key, "10.0.0.1:8080", clientv3.WithLease(lease.ID)); err != nil {
		return nil, err
	}
	if !r.renew {
		never := make(chan *clientv3.LeaseKeepAliveResponse)
		go func() { <-ctx.Done(); close(never) }()
		return never, nil
	}
	return r.cli.KeepAlive(ctx, lease.ID)
}

// discovery is what a client of the service sees: whether the key is
// there, read every 10 ms. Holds reads the last answer; a read that fails
// (no quorum) leaves it as it was, as a real client keeps its last list.
func discovery(ctx context.Context, cli *clientv3.Client, key string) *atomic.Bool {
	var seen atomic.Bool
	go func() {
		for ctx.Err() == nil {
			cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			resp, err := cli.Get(cctx, key, clientv3.WithCountOnly())
			cancel()
			if err == nil {
				seen.Store(resp.Count == 1)
			}
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Millisecond): // the client's polling pace, not a wait for state
			}
		}
	}()
	return &seen
}

var _ = Describe("a condition under chaos", func() {
	const key = "/chaos/services/api"

	// start runs a registrar and a discovery client until the spec ends and
	// waits until discovery sees the service.
	start := func(ctx SpecContext, renew bool) *atomic.Bool {
		GinkgoHelper()
		bg, stop := context.WithCancel(context.Background())
		DeferCleanup(stop)
		go (&registrar{cli: cluster.Client(), key: key, ttl: 1, renew: renew}).run(bg)
		registered := discovery(bg, cluster.Client(), key)
		Eventually(registered.Load).WithContext(ctx).WithTimeout(5 * time.Second).Should(BeTrue())
		return registered
	}

	It("keeps a service on a kept-alive lease registered through every fault", func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster)
		registered := start(ctx, true)
		rec := chaos.RecordWith(chaos.RecordOptions{Conditions: []chaos.Condition{
			// A lost lease is registered anew at once; the bound leaves room
			// for a 1 s lease to run out once.
			{Name: "registered", Holds: registered.Load, MaxFalse: 1500 * time.Millisecond},
		}})
		DeferCleanup(func() { AddReportEntry("registered", rec.Stop().String()) })

		seed := time.Now().UnixNano()
		tl, err := chaos.Run(ctx, cluster, chaos.Options{
			Seed: seed, Duration: 5 * time.Second, Recording: rec, Log: GinkgoWriter,
			Check: chaos.Within(5*time.Second, func(g Gomega) {
				g.Expect(registered.Load()).To(BeTrue(), "discovery sees the service again")
				cctx, cancel := context.WithTimeout(ctx, time.Second)
				defer cancel()
				g.Expect(cluster.Client().Get(cctx, key)).To(HaveField("Count", BeEquivalentTo(1)), "etcd holds its key")
			}),
		})
		AddReportEntry("fault steps", tl.String())
		Expect(err).NotTo(HaveOccurred(), "replay: %s", tl.Replay())
		rep := rec.Stop()
		Expect(rep).To(matchers.BeSafe(), "replay: %s", tl.Replay())
		Expect(rep.Conditions).To(HaveLen(1))
		Expect(rep.Faults).To(HaveLen(len(tl.Steps)), "the faults are in the condition's timeline")
	})

	It("catches a service whose lease is never kept alive", func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster)
		registered := start(ctx, false)
		rec := chaos.RecordWith(chaos.RecordOptions{Conditions: []chaos.Condition{
			{Name: "registered", Holds: registered.Load, MaxFalse: 200 * time.Millisecond},
		}})
		// The lease runs out after 1 s and nothing registers the service
		// again: the condition is false from then on.
		Eventually(registered.Load).WithContext(ctx).WithTimeout(5 * time.Second).Should(BeFalse())
		time.Sleep(300 * time.Millisecond) // false for longer than the bound: the subject of the spec
		rep := rec.Stop()
		Expect(rep).NotTo(matchers.BeSafe())
		GinkgoT().Setenv(chaos.EnvArtifacts, GinkgoT().TempDir()) // the failure message below writes a picture
		Expect(rep.Conditions[0].False).To(HaveLen(1))
		Expect(rep.Conditions[0].False[0].To).To(Equal(rep.End), "still false when the recording stopped")
		Expect(matchers.BeSafe().FailureMessage(rep)).To(HavePrefix(`Expected every condition to hold, but found "registered" false 1 time for longer than 200ms`))
		Expect(rep.String()).To(MatchRegexp(`NOT HELD: registered false for \S+ \(over 200ms\), until \+\d+\.\d{3}s`))
	})

	It("ends Run with Within's message, after healing, when a check never passes", func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster)
		tl, err := chaos.Run(ctx, cluster, chaos.Options{
			Seed: 3, Duration: 5 * time.Second, Faults: []chaos.Fault{chaos.Pause}, MaxHold: 200 * time.Millisecond,
			Check: chaos.Within(50*time.Millisecond, func(g Gomega) {
				g.Expect(len(cluster.Members())).To(Equal(4), "a fourth member, which nobody adds")
			}),
		})
		Expect(err).To(MatchError(ContainSubstring("chaos: check after step #1 ")))
		Expect(err).To(MatchError(MatchRegexp(`Timed out after \S+\s+The function passed to Eventually failed at \S+condition_test.go:\d+ with:\s+a fourth member, which nobody adds`)))
		Expect(tl.Steps).To(HaveLen(1), "the failed check ended the run")
		for _, m := range cluster.Members() {
			Expect(m.State()).To(Equal(etcdtest.Running), "Run healed %s", m.Name())
		}
	})
})
