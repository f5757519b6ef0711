package etcdtest

import (
	"context"
	"testing"
	"time"
)

// BenchmarkSpace measures driving a 3-member cluster into NOSPACE
// (ExhaustSpace, until the alarm stands and writes are refused) and the
// production recovery (RecoverSpace: compact, defragment every member,
// disarm, until writes are accepted again), for a 1 MiB and an 8 MiB
// quota. Run with:
//
//	go test ./etcdtest -run '^$' -bench Space -benchtime 20x
func BenchmarkSpace(b *testing.B) {
	for _, q := range []struct {
		name  string
		bytes int64
	}{{"1MiB", 1 << 20}, {"8MiB", 8 << 20}} {
		b.Run(q.name, func(b *testing.B) {
			ctx := context.Background()
			c, err := Start(ctx, Config{QuotaBytes: q.bytes})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Stop(ctx)
			var exhausts, recovers []time.Duration
			for range b.N {
				t0 := time.Now()
				if err := c.ExhaustSpace(ctx); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := c.RecoverSpace(ctx); err != nil {
					b.Fatal(err)
				}
				exhausts = append(exhausts, t1.Sub(t0))
				recovers = append(recovers, time.Since(t1))
			}
			report(b, "exhaust", exhausts)
			report(b, "recover", recovers)
		})
	}
}
