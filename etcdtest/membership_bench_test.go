package etcdtest

import (
	"context"
	"testing"
	"time"
)

// BenchmarkMembership measures the membership operations on a 3-member
// cluster, each until it returns (the member serves, has caught up, votes,
// or is gone and the rest has settled):
//
//	go test ./etcdtest -run '^$' -bench Membership -benchtime 20x
//
// Each iteration adds a voter and removes it, then adds a learner,
// promotes it and removes it, so the cluster is back to three voters.
func BenchmarkMembership(b *testing.B) {
	ctx := context.Background()
	c, err := Start(ctx, Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Stop(ctx)
	var add, remove, addLearner, promote []time.Duration
	b.ResetTimer()
	for range b.N {
		var m *Member
		timed(b, &add, func() (err error) { m, err = c.AddMember(ctx); return err })
		timed(b, &remove, func() error { return c.RemoveMember(ctx, m) })
		timed(b, &addLearner, func() (err error) { m, err = c.AddMember(ctx, AsLearner()); return err })
		timed(b, &promote, func() error { return c.PromoteMember(ctx, m) })
		if err := c.RemoveMember(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	report(b, "add", add)
	report(b, "remove", remove)
	report(b, "add-learner", addLearner)
	report(b, "promote", promote)
}
