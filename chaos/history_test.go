package chaos_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/leasing"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

var keySeq atomic.Int64

// freshKey is a key no other spec of any process uses.
func freshKey(name string) string {
	return fmt.Sprintf("/history/%d-%d/%s", GinkgoParallelProcess(), keySeq.Add(1), name)
}

// opTimeout bounds each recorded call: a call on a paused or cut-off member
// ends as an unknown outcome instead of stalling the workload.
const opTimeout = 500 * time.Millisecond

func put(ctx context.Context, cli *clientv3.Client, key, value string) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	_, err := cli.Put(ctx, key, value)
	return err
}

// failed runs matcher m on actual, expects it to fail, and returns its
// failure message.
func failed(m interface {
	Match(any) (bool, error)
	FailureMessage(any) string
}, actual any) string {
	GinkgoHelper()
	ok, err := m.Match(actual)
	Expect(err).NotTo(HaveOccurred())
	Expect(ok).To(BeFalse(), "expected the matcher to fail")
	return m.FailureMessage(actual)
}

var _ = Describe("Recorded histories", func() {
	BeforeEach(func() {
		etcdtest.SkipIfExternal(cluster)
		// The pictures of the failures these specs provoke on purpose go to a
		// directory that is removed after the spec, not into the package.
		GinkgoT().Setenv(chaos.EnvArtifacts, GinkgoT().TempDir())
	})
	AfterEach(func(ctx SpecContext) {
		Expect(cluster.Heal()).To(Succeed())
		for _, m := range cluster.Members() {
			if m.State() == etcdtest.Paused {
				Expect(m.Resume()).To(Succeed())
			}
			if !m.Running() {
				Expect(m.Restart(ctx)).To(Succeed())
			}
		}
	}, NodeTimeout(time.Minute))

	It("records every kind of KV call with its request, response and outcome", func(ctx SpecContext) {
		key := freshKey("k")
		h := chaos.NewHistory()
		cli := h.Client(cluster.Client())
		_, err := cli.Put(ctx, key, "v1")
		Expect(err).NotTo(HaveOccurred())
		// Linearizable: a serializable Get here may be served by a member that
		// has not applied the Put yet (a stale read the checker would rightly fail).
		_, err = cli.Get(ctx, key, clientv3.WithLimit(5))
		Expect(err).NotTo(HaveOccurred())
		_, err = cli.Txn(ctx).If(clientv3.Compare(clientv3.Value(key), "=", "v1")).
			Then(clientv3.OpPut(key, "v2", clientv3.WithPrevKV())).Else(clientv3.OpGet(key)).Commit()
		Expect(err).NotTo(HaveOccurred())
		_, err = cli.Do(ctx, clientv3.OpDelete(key, clientv3.WithPrefix()))
		Expect(err).NotTo(HaveOccurred())
		h.Stop()

		ops := h.Operations()
		Expect(ops).To(HaveLen(4))
		for i, op := range ops {
			Expect(op.Outcome).To(Equal(chaos.Succeeded), "op %d", i)
			Expect(op.Client).To(Equal(0))
			Expect(op.Return).To(BeNumerically(">=", op.Call))
		}
		Expect(ops[0].Request.String()).To(Equal(fmt.Sprintf("put %s=%q", key, "v1")))
		rev := ops[0].Response.Revision
		Expect(ops[1].Request.Then[0].Limit).To(Equal(int64(5)))
		Expect(ops[1].Response.Results[0].KVs).To(Equal([]chaos.KV{{Key: key, Value: "v1", CreateRevision: rev, ModRevision: rev, Version: 1}}))
		Expect(ops[2].Request.Txn).To(BeTrue())
		Expect(ops[2].Request.Compares).To(Equal([]chaos.Compare{{Key: key, Target: chaos.CompareValue, Result: "=", Value: "v1"}}))
		Expect(ops[2].Request.Then[0].PrevKV).To(BeTrue())
		Expect(ops[2].Response.Succeeded).To(BeTrue())
		Expect(ops[2].Response.Results[0].PrevKVs).To(HaveLen(1))
		Expect(ops[3].Request.Then[0].Type).To(Equal(chaos.OpDelete))
		Expect(ops[3].Request.Then[0].Ranged()).To(BeTrue())
		Expect(ops[3].Response.Results[0].Deleted).To(Equal(int64(1)))
		Expect(h).To(matchers.BeLinearizable())
	}, SpecTimeout(time.Minute))

	It("records a write that timed out as of unknown outcome, and a refused one as failed", func(ctx SpecContext) {
		key := freshKey("k")
		h := chaos.NewHistory()
		cli := h.Client(cluster.Client())
		dead, cancel := context.WithCancel(ctx)
		cancel()
		_, err := cli.Put(dead, key, "maybe")
		Expect(err).To(HaveOccurred())
		_, err = cli.Put(ctx, key, "v", clientv3.WithLease(clientv3.LeaseID(0x1234)))
		Expect(err).To(MatchError(ContainSubstring("lease not found")))
		h.Stop()
		ops := h.Operations()
		Expect(ops).To(HaveLen(2))
		Expect(ops[0].Outcome).To(Equal(chaos.Unknown))
		Expect(ops[1].Outcome).To(Equal(chaos.Failed))
		Expect(ops[1].Request.Then[0].Lease).To(Equal(int64(0x1234)))
	}, SpecTimeout(time.Minute))

	It("catches a serializable read a cut-off member answers stale, and names the key", func(ctx SpecContext) {
		key := freshKey("config")
		_, err := cluster.Client().Put(ctx, key, "v1")
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() ([]byte, error) { // member 0 applied v1 before the history starts
			resp, err := cluster.Member(0).Client().Get(ctx, key, clientv3.WithSerializable())
			if err != nil || len(resp.Kvs) == 0 {
				return nil, err
			}
			return resp.Kvs[0].Value, nil
		}).Should(BeEquivalentTo("v1"))

		h := chaos.NewHistory()
		writer := h.Client(cluster.Client())
		reader := h.Client(cluster.Member(0).Client())
		Expect(cluster.Isolate(0)).To(Succeed())
		Expect(put(ctx, writer, key, "v2")).To(Succeed())
		resp, err := reader.Get(ctx, key, clientv3.WithSerializable())
		Expect(err).NotTo(HaveOccurred())
		Expect(string(resp.Kvs[0].Value)).To(Equal("v1"), "the isolated member answers from its own, older state")
		h.Stop()

		msg := failed(matchers.BeLinearizable(), h)
		Expect(msg).To(ContainSubstring(key))
		Expect(msg).To(ContainSubstring("serializable"))
		Expect(h).To(matchers.BeLinearizable(chaos.AllowStaleSerializable()), "v1 is a state the key had")
	}, SpecTimeout(time.Minute))

	It("catches the leasing client's stale cache after its link is cut (etcd-io/etcd#19091)", func(ctx SpecContext) {
		key := freshKey("leased")
		link, err := cluster.NewClientLink()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(link.Close)
		lkv, closeLeasing, err := leasing.NewKV(link.Client(), freshKey("leasing-owners")+"/")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(closeLeasing)
		// A client whose KV is the leasing layer: that layer is what is recorded.
		layered := clientv3.NewCtxClient(link.Client().Ctx())
		layered.KV, layered.Watcher, layered.Lease = lkv, link.Client().Watcher, link.Client().Lease

		h := chaos.NewHistory()
		writer := h.Client(cluster.Client())
		reader := h.Client(layered)
		Expect(put(ctx, writer, key, "v1")).To(Succeed())
		for range 2 { // the first Get takes the key's lease and caches it, the second is served from the cache
			_, err := reader.Get(ctx, key)
			Expect(err).NotTo(HaveOccurred())
		}
		link.Cut()
		Expect(put(ctx, writer, key, "v2")).To(Succeed())
		stale := 0
		// Served from the cache in microseconds: 200 reads, within 1.5 s on a slow machine.
		for n, deadline := 0, time.Now().Add(1500*time.Millisecond); n < 200 && time.Now().Before(deadline); n++ {
			rctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			resp, err := reader.Get(rctx, key)
			cancel()
			if err == nil && len(resp.Kvs) == 1 && string(resp.Kvs[0].Value) == "v1" {
				stale++
			}
		}
		link.Heal()
		h.Stop()
		AddReportEntry("stale leasing reads", stale)
		Expect(stale).To(BeNumerically(">", 0), "the leasing cache answered v1 after v2 was acknowledged")
		msg := failed(matchers.BeLinearizable(), h)
		Expect(msg).To(ContainSubstring(key))
	}, SpecTimeout(time.Minute))

	It("is no false alarm for writes through a member killed mid-call", func(ctx SpecContext) {
		key := freshKey("k")
		h := chaos.NewHistory()
		writer := h.Client(cluster.Member(1).Client())
		reader := h.Client(cluster.Client())
		var wrote, refused atomic.Int64
		stop, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer GinkgoRecover()
			defer close(done)
			for i := 0; i < 100_000 && ctx.Err() == nil; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if put(ctx, writer, key, fmt.Sprintf("v%d", i)) == nil {
					wrote.Add(1)
				} else {
					refused.Add(1)
				}
				rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				_, err := reader.Get(rctx, key)
				cancel()
				Expect(err).NotTo(HaveOccurred(), "the shared client routes around the killed member")
			}
		}()
		Eventually(wrote.Load).WithTimeout(10 * time.Second).Should(BeNumerically(">=", 20))
		Expect(cluster.Member(1).Kill()).To(Succeed())
		Eventually(refused.Load).WithTimeout(10 * time.Second).Should(BeNumerically(">=", 3))
		close(stop)
		Eventually(done).WithTimeout(10 * time.Second).Should(BeClosed())
		Expect(cluster.Member(1).Restart(ctx)).To(Succeed())
		_, err := reader.Get(ctx, key)
		Expect(err).NotTo(HaveOccurred())
		h.Stop()

		unknown := 0
		for _, op := range h.Operations() {
			if op.Outcome == chaos.Unknown {
				unknown++
			}
		}
		Expect(unknown).To(BeNumerically(">=", 3), "the Puts cut off by the kill are of unknown outcome")
		Expect(h).To(matchers.BeLinearizable())
	}, SpecTimeout(time.Minute))

	It("passes three processes doing Put, Get and compare-and-swap under seeded kills, pauses and isolations", func(ctx SpecContext) {
		keys := []string{freshKey("a"), freshKey("b"), freshKey("c")}
		h := chaos.NewHistory()
		var clients []*clientv3.Client
		for range 3 {
			base, err := clientv3.New(cluster.ClientConfig())
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(base.Close)
			clients = append(clients, h.Client(base))
		}
		wctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for i, cli := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				workload(wctx, cli, i, keys)
			}()
		}
		tl, err := chaos.Run(ctx, cluster, chaos.Options{Seed: 7, Duration: 6 * time.Second, Faults: []chaos.Fault{chaos.Kill, chaos.Pause, chaos.Isolate}, History: h})
		stop()
		wg.Wait()
		Expect(err).NotTo(HaveOccurred(), tl.Replay())
		h.Stop()
		Expect(len(h.Operations())).To(BeNumerically(">", 100))
		Expect(h.Faults()).NotTo(BeEmpty())
		Expect(h).To(matchers.BeLinearizable(), tl.String())
		Expect(cluster).To(matchers.BeConsistent())
	}, SpecTimeout(time.Minute))

	It("finds a watch through a client link that is cut and restored reliable", func(ctx SpecContext) {
		prefix := freshKey("watched") + "/"
		link, err := cluster.NewClientLink()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(link.Close)
		h := chaos.NewHistory()
		watcher := h.Client(link.Client())
		writer := h.Client(cluster.Client())
		wctx, cancel := context.WithCancel(ctx)
		DeferCleanup(cancel)
		var lastRev atomic.Int64
		wch := watcher.Watch(wctx, prefix, clientv3.WithPrefix())
		go func() {
			for resp := range wch {
				for _, ev := range resp.Events {
					lastRev.Store(ev.Kv.ModRevision)
				}
			}
		}()
		var last int64
		for i := range 60 {
			if i == 20 {
				link.Cut()
			}
			if i == 40 {
				link.Heal()
			}
			resp, err := writer.Put(ctx, fmt.Sprintf("%s%d", prefix, i%7), fmt.Sprintf("v%d", i))
			Expect(err).NotTo(HaveOccurred())
			last = resp.Header.Revision
		}
		Eventually(lastRev.Load).WithTimeout(20 * time.Second).Should(Equal(last))
		h.Stop()
		Expect(h).To(matchers.HaveReliableWatches())
		Expect(h).To(matchers.BeLinearizable())
	}, SpecTimeout(time.Minute))

	It("records and checks through a client of an external cluster, under its key prefix", func(ctx SpecContext) {
		GinkgoT().Setenv(etcdtest.EnvEndpoints, strings.Join(cluster.Endpoints(), ","))
		ext, err := etcdtest.Start(ctx, etcdtest.Config{})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(ext.Stop, context.Background())
		Expect(ext.External()).To(BeTrue())

		h := chaos.NewHistory()
		cli := h.Client(ext.Client())
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		wch := cli.Watch(wctx, "/ext/", clientv3.WithPrefix())
		var last int64
		for i := range 10 {
			resp, err := cli.Put(ctx, fmt.Sprintf("/ext/%d", i%3), fmt.Sprint(i))
			Expect(err).NotTo(HaveOccurred())
			last = resp.Header.Revision
		}
		Eventually(wch).WithTimeout(5 * time.Second).Should(Receive(Satisfy(func(r clientv3.WatchResponse) bool {
			return len(r.Events) > 0 && r.Events[len(r.Events)-1].Kv.ModRevision == last
		})))
		_, err = cli.Get(ctx, "/ext/", clientv3.WithPrefix())
		Expect(err).NotTo(HaveOccurred())
		h.Stop()

		Expect(h.Operations()[0].Request.Then[0].Key).To(Equal("/ext/0"), "keys as the code named them, without the prefix")
		Expect(h).To(matchers.BeLinearizable())
		Expect(h).To(matchers.HaveReliableWatches())
	}, SpecTimeout(time.Minute))

	It("catches a hand-rolled watch resume that skips a revision", func(ctx SpecContext) {
		key := freshKey("resumed")
		h := chaos.NewHistory()
		watcher, writer := h.Client(cluster.Client()), h.Client(cluster.Client())
		next := func(ch clientv3.WatchChan) int64 {
			GinkgoHelper()
			var rev int64
			Eventually(ch).WithTimeout(5 * time.Second).Should(Receive(Satisfy(func(r clientv3.WatchResponse) bool {
				if len(r.Events) == 0 {
					return false
				}
				rev = r.Events[len(r.Events)-1].Kv.ModRevision
				return true
			})))
			return rev
		}
		first, cancel := context.WithCancel(ctx)
		ch := watcher.Watch(first, key)
		Expect(put(ctx, writer, key, "v1")).To(Succeed())
		last := next(ch)
		cancel()
		Eventually(ch).WithTimeout(5 * time.Second).Should(BeClosed())
		Expect(put(ctx, writer, key, "v2")).To(Succeed()) // at last+1: the revision the resume skips
		Expect(put(ctx, writer, key, "v3")).To(Succeed())

		resumed, cancel := context.WithCancel(ctx)
		defer cancel()
		Expect(next(watcher.Watch(resumed, key, clientv3.WithRev(last+2)))).To(Equal(last + 2)) // the bug: last+1 was meant
		h.Stop()

		msg := failed(matchers.HaveReliableWatches(), h)
		Expect(msg).To(ContainSubstring(key))
		Expect(msg).To(ContainSubstring("resume"))
	}, SpecTimeout(time.Minute))
})

// workload is one simulated process: Puts, Gets and compare-and-swaps on
// keys, each bounded by opTimeout, until ctx ends.
func workload(ctx context.Context, cli *clientv3.Client, id int, keys []string) {
	rng := rand.New(rand.NewPCG(uint64(id), 42))
	for n := 0; ctx.Err() == nil && n < 100_000; n++ {
		key := keys[rng.IntN(len(keys))]
		value := fmt.Sprintf("c%d-%d", id, n)
		cctx, cancel := context.WithTimeout(ctx, opTimeout)
		switch rng.IntN(3) {
		case 0:
			_, _ = cli.Put(cctx, key, value)
		case 1:
			_, _ = cli.Get(cctx, key)
		default:
			if resp, err := cli.Get(cctx, key); err == nil {
				var mod int64
				if len(resp.Kvs) > 0 {
					mod = resp.Kvs[0].ModRevision
				}
				_, _ = cli.Txn(cctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", mod)).
					Then(clientv3.OpPut(key, value)).Else(clientv3.OpGet(key)).Commit()
			}
		}
		cancel()
	}
}
