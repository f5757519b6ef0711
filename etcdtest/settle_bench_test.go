package etcdtest

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkSettle measures what settling adds to a fault of the raft
// leader: the fault is injected with settling off, then Settle waits until
// the remaining majority agrees on a new leader. put is a Put through a
// majority member right after the settled fault. Run with:
//
//	go test ./etcdtest -run '^$' -bench Settle -benchtime 20x
func BenchmarkSettle(b *testing.B) {
	type fault struct {
		name   string
		inject func(c *Cluster, i int) error
		repair func(ctx context.Context, c *Cluster, i int) error
	}
	restart := func(ctx context.Context, c *Cluster, i int) error { return c.Members()[i].Restart(ctx) }
	heal := func(_ context.Context, c *Cluster, _ int) error { return c.Heal() }
	faults := []fault{
		{"Kill", func(c *Cluster, i int) error { return c.Members()[i].Kill() }, restart},
		{"Stop", func(c *Cluster, i int) error { return c.Members()[i].Stop(context.Background()) }, restart},
		{"Pause", func(c *Cluster, i int) error { return c.Members()[i].Pause() },
			func(_ context.Context, c *Cluster, i int) error { return c.Members()[i].Resume() }},
		{"Isolate", func(c *Cluster, i int) error { return c.Isolate(i) }, heal},
	}
	ctx := context.Background()
	c, err := Start(ctx, Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Stop(ctx)
	for _, f := range faults {
		b.Run(f.name, func(b *testing.B) {
			var settles, puts, repairs []time.Duration
			for range b.N {
				l, err := c.Leader(ctx)
				if err != nil {
					b.Fatal(err)
				}
				i := slices.Index(c.Members(), l)
				restore := c.NoSettle()
				err = f.inject(c, i)
				restore()
				if err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				if err := c.Settle(ctx); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
				_, err = c.Members()[(i+1)%len(c.Members())].Client().Put(pctx, "/bench", "v")
				cancel()
				if err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				if err := f.repair(ctx, c, i); err != nil {
					b.Fatal(err)
				}
				settles = append(settles, t1.Sub(t0))
				puts = append(puts, t2.Sub(t1))
				repairs = append(repairs, time.Since(t2))
			}
			report(b, "settle", settles)
			report(b, "put", puts)
			report(b, "repair", repairs)
		})
	}
}
