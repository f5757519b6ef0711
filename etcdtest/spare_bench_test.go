package etcdtest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkSpare measures what a fresh 3-member cluster costs a spec in
// its own time — Start, then Stop after the spec — with and without a warm
// spare, in the same run. Each iteration is one spec: Start, a Put and a
// Get, then the spec's own work (a sleep standing for it: what matters is
// whether the spare has booted by the time the next spec starts), then
// Stop. Run with:
//
//	go test ./etcdtest -run '^$' -bench Spare -benchtime 50x
func BenchmarkSpare(b *testing.B) {
	for _, work := range []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond} {
		for _, spare := range []bool{false, true} {
			b.Run(fmt.Sprintf("work=%v/spare=%v", work, spare), func(b *testing.B) {
				benchSpecs(b, Config{Spare: spare}, work)
			})
		}
	}
}

func benchSpecs(b *testing.B, cfg Config, work time.Duration) {
	ctx := context.Background()
	if _, err := Provision(ctx, cfg); err != nil {
		b.Fatal(err)
	}
	defer StopSpares()
	var starts, stops []time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		c, err := Start(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		starts = append(starts, time.Since(t0))
		if err := c.Key("/spec").Put(ctx, "v"); err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.Key("/spec").Get(ctx); err != nil {
			b.Fatal(err)
		}
		time.Sleep(work) // the spec's own work
		t1 := time.Now()
		if err := c.Stop(ctx); err != nil {
			b.Fatal(err)
		}
		stops = append(stops, time.Since(t1))
	}
	b.StopTimer()
	// The first Start of a process always boots: there is no spare yet.
	b.ReportMetric(float64(slices.Max(starts[min(1, len(starts)-1):]).Microseconds())/1000, "start-after-first-max-ms")
	report(b, "start", starts)
	report(b, "stop", stops)
}
