package etcdtest

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkMoveLeader measures MoveLeader from the current raft leader to
// the next member, until every member follows it and serves a read. Run with:
//
//	go test ./etcdtest -run '^$' -bench MoveLeader -benchtime 20x
func BenchmarkMoveLeader(b *testing.B) {
	ctx := context.Background()
	c, err := Start(ctx, Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Stop(ctx)
	var moves []time.Duration
	for range b.N {
		l, err := c.Leader(ctx)
		if err != nil {
			b.Fatal(err)
		}
		next := c.Members()[(slices.Index(c.Members(), l)+1)%len(c.Members())]
		t0 := time.Now()
		if err := c.MoveLeader(ctx, next); err != nil {
			b.Fatal(err)
		}
		moves = append(moves, time.Since(t0))
	}
	report(b, "move", moves)
}
