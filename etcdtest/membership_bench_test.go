package etcdtest

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// BenchmarkMembership measures the membership operations on a 3-member
// cluster, each until it returns (the member serves, has caught up, votes,
// or is gone and the rest has settled):
//
//	go test ./etcdtest -run '^$' -bench Membership -benchtime 20x
//
// Each iteration boots a fresh cluster (not timed), as a spec would, adds a
// voter and removes it, then adds a learner, promotes it and removes it,
// then writes 150 keys and adds a voter again: past 100 entries etcd 3.6+
// sends a new member a snapshot, which can stall its first proposal (see
// waitJoined).
func BenchmarkMembership(b *testing.B) {
	ctx := context.Background()
	var add, remove, addLearner, promote, addCompacted []time.Duration
	for range b.N {
		b.StopTimer()
		c, err := Start(ctx, Config{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		var m *Member
		timed(b, &add, func() (err error) { m, err = c.AddMember(ctx); return err })
		timed(b, &remove, func() error { return c.RemoveMember(ctx, m) })
		timed(b, &addLearner, func() (err error) { m, err = c.AddMember(ctx, AsLearner()); return err })
		timed(b, &promote, func() error { return c.PromoteMember(ctx, m) })
		b.StopTimer()
		if err := c.RemoveMember(ctx, m); err != nil {
			b.Fatal(err)
		}
		// Past 100 entries etcd 3.6+ compacts the leader's raft log, and a
		// new member needs a snapshot (see waitJoined).
		for i := range 150 {
			if err := c.Key("/bench/"+strconv.Itoa(i)).Put(ctx, "v"); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		timed(b, &addCompacted, func() (err error) { m, err = c.AddMember(ctx); return err })
		b.StopTimer()
		if err := c.Stop(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	report(b, "add", add)
	report(b, "remove", remove)
	report(b, "add-learner", addLearner)
	report(b, "promote", promote)
	report(b, "add-after-150-writes", addCompacted)
}
