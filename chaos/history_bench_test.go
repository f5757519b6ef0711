package chaos_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// BenchmarkHistoryPut measures what recording costs a Put: the median
// latency of Puts through the base client and through a recorded client of
// it, alternated in one run on one 3-member cluster so both meet the same
// machine, and the memory the history keeps per recorded operation:
//
//	go test ./chaos -run '^$' -bench HistoryPut -benchtime 5000x
func BenchmarkHistoryPut(b *testing.B) {
	c := etcdtest.StartT(b, etcdtest.Config{})
	ctx := context.Background()
	h := chaos.NewHistory()
	base := c.Client()
	rec := h.Client(base)
	timed := func(cli *clientv3.Client, i int) time.Duration {
		start := time.Now()
		if _, err := cli.Put(ctx, fmt.Sprintf("/bench/%d", i%100), "value"); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	for i := range 200 { // warm both paths up
		timed(base, i)
		timed(rec, i)
	}
	h.Stop()
	h = chaos.NewHistory()
	rec = h.Client(base)

	var plain, recorded []time.Duration
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	i := 0
	for b.Loop() {
		plain = append(plain, timed(base, i))
		recorded = append(recorded, timed(rec, i))
		i++
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	h.Stop()
	n := len(h.Operations())
	median := func(ds []time.Duration) time.Duration { slices.Sort(ds); return ds[len(ds)/2] }
	mp, mr := median(plain), median(recorded)
	b.ReportMetric(float64(mp.Microseconds()), "base-p50-µs")
	b.ReportMetric(float64(mr.Microseconds()), "recorded-p50-µs")
	b.ReportMetric(100*(float64(mr)/float64(mp)-1), "overhead-%")
	// The slices of latencies grow too: two durations per iteration.
	kept := int64(after.HeapAlloc) - int64(before.HeapAlloc) - int64(2*8*len(plain))
	b.ReportMetric(float64(kept)/float64(max(n, 1)), "B/recorded-op")
	runtime.KeepAlive(h)
}
