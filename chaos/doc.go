// Package chaos checks any leader election under real faults: a seeded,
// replayable fault schedule for an etcdtest cluster, and a recorder that
// samples every elector's belief and reports when two believed at once.
//
//	rec := chaos.Record(a, b, c) // anything with ID() string and Elected() bool
//	tl, err := chaos.Run(ctx, cluster, chaos.Options{Seed: 42, Duration: 20 * time.Second, Recording: rec})
//	Expect(err).NotTo(HaveOccurred(), tl.Replay())
//	Expect(rec.Stop()).To(matchers.BeSafe()) // no overlap, no token regression
//
// # Recording
//
// Record reads every elector's Elected on a half-millisecond ticker from one
// goroutine and keeps only the changes. Measured (BenchmarkRecord, 3
// electors, 2 cores): about 950 reads per elector per second and 5% of one
// core — Go's timers wake an otherwise idle process about once a
// millisecond, so the tick is finer than the reads it gets. Stop returns a
// Report: every overlap (two or more electors believing at once, with their
// IDs and times), every fencing token that did not exceed the ones before
// it, leaderless gaps (judged against RecordOptions.MaxGap when set), the
// electors' own select events, and the faults. Report.String is a compact
// text timeline for failure messages; Report.SVG is a picture of it, one
// lane per elector, faults shaded, overlaps in red; SaveSVG writes it.
//
// An elector tells more through optional interfaces: Fenced (its fencing
// token, checked to grow across leaders) and Selecting (its select events).
// *locker.Node has both. Anything else needs an adapter; for
// go.etcd.io/etcd/client/v3/concurrency it is about ten lines:
//
//	type campaigner struct {
//		id      string
//		e       *concurrency.Election
//		elected atomic.Bool
//	}
//
//	func (c *campaigner) ID() string    { return c.id }
//	func (c *campaigner) Elected() bool { return c.elected.Load() }
//
//	// run: err := c.e.Campaign(ctx, c.id); c.elected.Store(err == nil)
//	// and c.elected.Store(false) when the session's Done closes or on Resign.
//
// examples/concurrency holds the whole suite.
//
// # Running faults
//
// Run injects one fault at a time for Options.Duration — kills, pauses,
// restarts, isolations, partitions, one-way cuts, peer latency and loss,
// client cut-offs (Options.Links) and raft leader moves — aimed at a random
// member, the raft leader, a minority or a majority, each held for a random
// while and healed; and it heals everything before it returns. The same
// Seed draws the same steps (which member "the raft leader" is depends on
// the cluster at that moment; the Timeline records whom each step hit).
// Timeline.Replay is the Options literal that replays a run: put it in the
// failure message.
package chaos
