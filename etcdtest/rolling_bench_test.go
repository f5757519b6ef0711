package etcdtest

import (
	"context"
	"testing"
	"time"
)

// BenchmarkRestartOn measures one member's version change in a 3-member
// cluster of v3.6.16, until it serves again and the cluster has settled:
// up to v3.7.3 and back (the cluster stays at 3.6, so the way back is
// allowed), next to a plain Restart on the same release in the same run.
// The managed builds of both releases must exist or are made first:
//
//	go test ./etcdtest -run '^$' -bench RestartOn -benchtime 20x
func BenchmarkRestartOn(b *testing.B) {
	const from, to = "v3.6.16", DefaultVersion
	ctx := context.Background()
	for _, rel := range []string{from, to} {
		if _, err := binaryFor(ctx, rel); err != nil {
			b.Fatal(err)
		}
	}
	c, err := Start(ctx, Config{Version: from})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Stop(ctx)
	m := c.Member(0)
	var up, down, plain []time.Duration
	b.ResetTimer()
	for range b.N {
		timed(b, &up, func() error { return m.RestartOn(ctx, to) })
		timed(b, &down, func() error { return m.RestartOn(ctx, from) })
		timed(b, &plain, func() error { return m.Restart(ctx) })
	}
	report(b, "up", up)
	report(b, "down", down)
	report(b, "restart", plain)
}
