// Package chaos judges code that depends on etcd under real faults: a
// seeded, replayable fault schedule for an etcdtest cluster; a recorder that
// samples any elector's belief and reports when two believed at once; and
// histories of what the code did with etcd — every KV call and watch
// response of the clients it was given, and the calls of its own API —
// checked for linearizability and watch reliability.
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
// # Any invariant
//
// Not every property is an election. A Condition — "the service is
// registered", "the cache agrees with etcd" — is any func() bool, sampled
// on the electors' tick (or alone), with the longest it may be false:
//
//	rec := chaos.RecordWith(chaos.RecordOptions{Conditions: []chaos.Condition{
//		{Name: "registered", Holds: registered.Load, MaxFalse: 2 * time.Second},
//	}}, nodes...)
//
// The report lists when each condition did not hold and for how long, in
// the same timeline and picture as the elections, and BeSafe fails one that
// was false past its bound. Liveness after each heal is Options.Check;
// Within makes one of Gomega assertions, retried until they pass:
//
//	Check: chaos.Within(5*time.Second, func(g gomega.Gomega) {
//		g.Expect(registered.Load()).To(gomega.BeTrue())
//	}),
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
//
// # Checking your own code's history
//
// A History records what the code under test does with etcd. Give the code
// a client from History.Client in place of its own, and every Get, Put,
// Delete, Txn and Do it makes (or a library it hands the client to:
// concurrency.Session, Mutex, Election, the leasing KV) is recorded — call
// and return on a monotonic clock, request, response, outcome — and so is
// every watch response it is delivered:
//
//	h := chaos.NewHistory()
//	cli := h.Client(cluster.Client()) // one per simulated process
//	go myCode(cli)
//	_, err := chaos.Run(ctx, cluster, chaos.Options{Seed: 7, Duration: 10 * time.Second, History: h})
//	h.Stop()
//	Expect(h).To(matchers.BeLinearizable())
//	Expect(h).To(matchers.HaveReliableWatches())
//	Expect(cluster).To(matchers.BeConsistent())
//
// A write that returns an error after it may have reached etcd (a deadline,
// an unavailable member, a lost connection) is recorded as of unknown
// outcome: the checker lets it take effect at any point after its call, or
// never. BeLinearizable (History.CheckLinearizable) checks the KV calls
// with porcupine against a model of etcd's KV, values and revisions, key by
// key (keys a range read or a transaction touches together are checked
// together); it names the operations that cannot be ordered, with the
// faults of Run (Options.History) in force at the time, and writes
// porcupine's HTML picture of the history. HaveReliableWatches
// (History.CheckWatches) holds every watch to etcd's watch guarantees,
// against etcd's own history of the watched keys, which Stop reads.
//
// The KV level cannot see an application's lost update: two
// read-modify-writes without a compare-and-swap make a perfectly
// linearizable KV history. So a History also records the calls of the
// code's own API, checked against a model of what it promises — Register,
// Counter, Set, Bank, or any porcupine.Model:
//
//	bank := h.API("bank", chaos.Bank(500))
//	call := bank.Call(client, chaos.Transfer{From: "a", To: "b", Amount: 10})
//	if err := transfer(ctx, "a", "b", 10); err != nil {
//		call.Unknown()
//	} else {
//		call.Return(nil)
//	}
package chaos
