package registry_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

// register keeps key registered under a lease of ttl seconds until ctx
// ends: granted, put, kept alive, and all again whenever the lease is lost.
// This is the code under test.
func register(ctx context.Context, cli *clientv3.Client, key, addr string, ttl int64) {
	for ctx.Err() == nil {
		if alive, err := registerOnce(ctx, cli, key, addr, ttl); err == nil {
			for range alive { // until the lease is lost or ctx ends
			}
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond): // the pace of retries while etcd refuses, not a wait for state
		}
	}
}

func registerOnce(ctx context.Context, cli *clientv3.Client, key, addr string, ttl int64) (<-chan *clientv3.LeaseKeepAliveResponse, error) {
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	lease, err := cli.Grant(cctx, ttl)
	if err != nil {
		return nil, err
	}
	if _, err := cli.Put(cctx, key, addr, clientv3.WithLease(lease.ID)); err != nil {
		return nil, err
	}
	return cli.KeepAlive(ctx, lease.ID)
}

// discover follows key with a watch until ctx ends and says whether it is
// there: what a client of the service believes. A watch that ends (no
// leader, compaction) is opened again after a fresh read.
func discover(ctx context.Context, cli *clientv3.Client, key string) *atomic.Bool {
	var present atomic.Bool
	go func() {
		for ctx.Err() == nil {
			follow(ctx, cli, key, &present)
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond): // the pace of retries, not a wait for state
			}
		}
	}()
	return &present
}

func follow(ctx context.Context, cli *clientv3.Client, key string, present *atomic.Bool) {
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	resp, err := cli.Get(cctx, key)
	cancel()
	if err != nil {
		return
	}
	present.Store(resp.Count > 0)
	wctx, stop := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer stop()
	for wr := range cli.Watch(wctx, key, clientv3.WithRev(resp.Header.Revision+1)) {
		if wr.Err() != nil {
			return
		}
		for _, ev := range wr.Events {
			present.Store(ev.Type == clientv3.EventTypePut)
		}
	}
}

var _ = Describe("a service registry under faults", func() {
	var key string
	BeforeEach(func() {
		etcdtest.SkipIfExternal(cluster) // faults need a cluster the suite boots
		key = fmt.Sprintf("/services/api/%d", CurrentSpecReport().LeafNodeLocation.LineNumber)
	})

	// start runs a registrar on cli and a discovery client on the shared
	// client until the spec ends, and returns once the service is seen.
	start := func(ctx SpecContext, cli *clientv3.Client) *atomic.Bool {
		GinkgoHelper()
		bg, stop := context.WithCancel(context.Background())
		DeferCleanup(stop)
		go register(bg, cli, key, "10.0.0.7:8080", 1)
		registered := discover(bg, cluster.Client(), key)
		Eventually(registered.Load).WithContext(ctx).WithTimeout(5 * time.Second).Should(BeTrue())
		return registered
	}

	It("keeps the service registered through a seeded schedule of faults", func(ctx SpecContext) {
		registered := start(ctx, cluster.Client())
		rec := chaos.RecordWith(chaos.RecordOptions{Conditions: []chaos.Condition{
			// Room for a 1 s lease to run out once and be registered anew.
			{Name: "registered", Holds: registered.Load, MaxFalse: 1500 * time.Millisecond},
		}})
		tl, err := chaos.Run(ctx, cluster, chaos.Options{
			Seed: 21, Duration: 5 * time.Second, Recording: rec,
			Check: chaos.Within(5*time.Second, func(g Gomega) {
				g.Expect(registered.Load()).To(BeTrue(), "discovery sees the service again after the heal")
			}),
		})
		Expect(err).NotTo(HaveOccurred(), tl.Replay())
		rep := rec.Stop()
		AddReportEntry("registered", rep.String())
		Expect(rep).To(matchers.BeSafe(), tl.Replay())
	}, SpecTimeout(time.Minute))

	It("catches a registrar pinned to one member: the service drops out while that member is down", func(ctx SpecContext) {
		registered := start(ctx, cluster.Member(0).Client()) // the bug: one member's client, not the cluster's
		rec := chaos.RecordWith(chaos.RecordOptions{Conditions: []chaos.Condition{
			{Name: "registered", Holds: registered.Load}, // MaxFalse 0: it must never drop out while a quorum serves
		}})
		kill := chaos.Step{N: 1, Fault: chaos.Kill, Members: []string{cluster.Member(0).Name()}, Start: time.Now()}
		Expect(cluster.Member(0).Kill()).To(Succeed())
		DeferCleanup(cluster.Member(0).Restart)
		// The lease runs out 1 s later: the other two members still form the
		// cluster, but the registrar cannot reach them.
		Eventually(registered.Load).WithContext(ctx).WithTimeout(5 * time.Second).Should(BeFalse())
		Expect(cluster.Member(0).Restart(ctx)).To(Succeed())
		kill.End = time.Now()
		rec.Note(kill) // a fault of the spec's own, in the report's timeline and picture
		Eventually(registered.Load).WithContext(ctx).WithTimeout(5*time.Second).Should(BeTrue(), "registered anew once its member is back")

		rep := rec.Stop()
		AddReportEntry("registered", rep.String())
		Expect(rep).NotTo(matchers.BeSafe())
		Expect(rep.Conditions[0].Violations()).To(HaveLen(1), "one drop-out, from the lease's expiry to the restart")
	}, SpecTimeout(time.Minute))
})
