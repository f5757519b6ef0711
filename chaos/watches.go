package chaos

// The watch checker holds every recorded watch to etcd's documented watch
// guarantees (https://etcd.io/docs/v3.6/learning/api_guarantees/#watch-apis):
// ordered, unique, atomic, reliable, resumable, and bookmarkable (a
// progress notification means every event up to its revision was sent).
// A watch alone shows only what it got; what it should have got comes from
// the ground truth: etcd's own history of the watched ranges, read by
// History.Stop with a watch of its own, which knows every change (lease
// expiries, other programs' writes); when that could not be read, the
// recorded writes, which know only the writes acknowledged through the
// recording clients, so less is checked (a write whose outcome is unknown is
// never required, and an event no known write explains is accepted). Each
// watch is checked between the revision it started at and the last one it
// vouched for (its last event or progress notification): nothing is
// required of revisions it never reached. A watch ended by compaction is
// listed as announced, not failed: etcd kept its promise by telling the
// code, which must re-list; a later watch that resumes past the lost
// revisions without re-listing is a resume gap.

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// WatchProblemKind names the guarantee a WatchProblem is about.
type WatchProblemKind string

// The watch guarantees, as the problems that break them.
const (
	// WatchUnordered: an event came after one of a higher revision, or
	// after a progress notification at or past its revision.
	WatchUnordered WatchProblemKind = "unordered"
	// WatchSplit: the events of one revision came in two responses; etcd
	// delivers a revision's events together.
	WatchSplit WatchProblemKind = "split"
	// WatchDuplicate: the same key's event at the same revision came twice.
	WatchDuplicate WatchProblemKind = "duplicate"
	// WatchMissing: a change of the watched range, between the watch's
	// start and the last revision it delivered, never came.
	WatchMissing WatchProblemKind = "missing"
	// WatchResumeGap: the code watched the range again from an explicit
	// revision past the one after the last its previous watch delivered,
	// and changes in between were never delivered nor re-listed.
	WatchResumeGap WatchProblemKind = "resume gap"
	// WatchMismatch: a delivered event is not etcd's (another value,
	// revision, version or previous value), or is not one the watch asked
	// for (outside its range, filtered out, before its start).
	WatchMismatch WatchProblemKind = "mismatch"
	// WatchCompacted: the watch ended because etcd had compacted the
	// revisions it still wanted. Announced by etcd, so never a failure.
	WatchCompacted WatchProblemKind = "compacted"
)

// WatchProblem is one broken (or, for WatchCompacted, announced) watch
// guarantee.
type WatchProblem struct {
	Kind WatchProblemKind
	// Watch is the watch that broke it; for a resume gap, the resuming one.
	Watch Watch
	// Key and Revision are the event's (the first one's, for a run of
	// missing events; the compaction revision for WatchCompacted).
	Key      string
	Revision int64
	// Detail says what was expected and what was delivered instead.
	Detail string
	// At is when: the response that showed it, or the resuming Watch call.
	At time.Duration
	// Faults are the fault windows in force then (History.Faults).
	Faults []FaultWindow
	// Expected is the ground truth's event, when there is one; Delivered
	// the watch's, when it delivered one.
	Expected, Delivered *WatchEvent
}

func (p WatchProblem) String() string {
	s := fmt.Sprintf("%s: %s: %s at rev %d: %s (at %s", p.Kind, p.Watch, p.Key, p.Revision, p.Detail, fmtAt(p.At))
	if len(p.Faults) > 0 {
		f := make([]string, len(p.Faults))
		for i, w := range p.Faults {
			f[i] = watchFaultString(w)
		}
		s += "; during " + strings.Join(f, ", ")
	}
	return s + ")"
}

func watchFaultString(w FaultWindow) string {
	end := "never healed"
	if w.End != 0 {
		end = fmtAt(w.End)
	}
	return fmt.Sprintf("%s [%s, %s]", w.What, fmtAt(w.Start), end)
}

// WatchReport is what CheckWatches found.
type WatchReport struct {
	Watches int // watches checked
	Events  int // events they delivered
	// Problems are the broken guarantees; any fails HaveReliableWatches.
	Problems []WatchProblem
	// Announced are the events etcd said were lost (compaction): listed,
	// never failed.
	Announced []WatchProblem
	// FromEtcd says the watches were held to etcd's own history of the
	// watched keys; false means to the recorded writes only, and Notes
	// says why.
	FromEtcd bool
	// Notes are what limited the check.
	Notes []string
}

// Reliable says whether no guarantee was broken (announced losses do not
// count).
func (r WatchReport) Reliable() bool { return len(r.Problems) == 0 }

// maxWatchProblemsListed caps the problems String lists.
const maxWatchProblemsListed = 10

// String is the report as a failure message: a summary line, the first
// problems (earliest first), the announced losses and the notes.
func (r WatchReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s: ", watchCount(r.Watches, "watch", "watches"), watchCount(r.Events, "event", "events"))
	if r.Reliable() {
		b.WriteString("reliable (ordered, atomic, unique, nothing missing, values consistent)")
	} else {
		fmt.Fprintf(&b, "%s (%s)", watchCount(len(r.Problems), "problem", "problems"), watchKindCounts(r.Problems))
	}
	list := func(ps []WatchProblem) {
		for i, p := range ps {
			if i == maxWatchProblemsListed {
				fmt.Fprintf(&b, "\n  ... and %d more", len(ps)-i)
				break
			}
			b.WriteString("\n  " + p.String())
		}
	}
	list(r.Problems)
	if len(r.Announced) > 0 {
		fmt.Fprintf(&b, "\nannounced by etcd, not failed (%d):", len(r.Announced))
		list(r.Announced)
	}
	for _, n := range r.Notes {
		b.WriteString("\n" + n)
	}
	return b.String()
}

func watchKindCounts(ps []WatchProblem) string {
	kinds := []WatchProblemKind{WatchMissing, WatchResumeGap, WatchDuplicate, WatchUnordered, WatchSplit, WatchMismatch, WatchCompacted}
	var parts []string
	for _, k := range kinds {
		n := 0
		for _, p := range ps {
			if p.Kind == k {
				n++
			}
		}
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	return strings.Join(parts, ", ")
}

// CheckWatches holds every recorded watch to etcd's watch guarantees:
//
//   - ordered: event revisions never decrease, and no event comes at or
//     below a progress notification's revision;
//   - atomic: the events of one revision come in one response;
//   - unique: no key's event at one revision comes twice;
//   - reliable: no change of the watched range (honouring WithFilterPut and
//     WithFilterDelete) is missing between the watch's start (its WithRev,
//     else the revision after its created notice's, else its first event's)
//     and the last revision it delivered (its last event or progress
//     notification); this covers the streams clientv3 re-establishes by
//     itself;
//   - resumed: when the code watches a range again (same client, range and
//     filters, from an explicit revision, after the previous watch ended),
//     no change between the last revision the previous one delivered and
//     the new start is lost, unless the client re-listed it: a Get of the
//     key at or past the revision before the new start;
//   - consistent: every delivered event is etcd's event at its revision and
//     key (type, value, create and mod revision, version, lease, and the
//     previous key-value when the watch asked for it and it is known).
//
// The ground truth is etcd's own history of the watched ranges, read by
// Stop; when Stop could not read it, the recorded writes, and the report
// says so. A watch that etcd ended because its start was compacted is
// listed in Announced ("events lost, announced by etcd") and does not make
// the report unreliable: the code was told, and must re-list; what the
// watch delivered before is checked like the rest. Call it after Stop.
func (h *History) CheckWatches() WatchReport {
	watches := h.Watches()
	c := &watchChecker{truth: h.watchTruth(watches), faults: h.Faults(), ops: h.Operations()}
	c.rep = WatchReport{Watches: len(watches), FromEtcd: c.truth.etcd}
	if c.truth.note != "" {
		c.rep.Notes = append(c.rep.Notes, c.truth.note)
	}
	spans := make([]watchSpan, len(watches))
	for i, w := range watches {
		spans[i] = c.checkWatch(w)
	}
	c.checkResumes(watches, spans)
	byTime := func(a, b WatchProblem) int { return int(a.At - b.At) }
	slices.SortStableFunc(c.rep.Problems, byTime)
	slices.SortStableFunc(c.rep.Announced, byTime)
	return c.rep
}

// watchChecker gathers the report while the watches are checked.
type watchChecker struct {
	truth  *watchTruth
	faults []FaultWindow
	ops    []Operation
	rep    WatchReport
}

// watchSpan is what one watch vouched for: every change of its range in
// [start, last] was delivered. start is 0 when the watch never said where
// it started.
type watchSpan struct {
	start, last int64
	lastAt      time.Duration // when it delivered last
}

// watchPoint is a moment the watch vouched for more: after the response
// at At, every change up to Rev had been delivered.
type watchPoint struct {
	rev      int64
	at       time.Duration
	progress bool
}

// watchStart is the first revision w can deliver, and whether etcd said so
// (WithRev or the created notice) rather than the checker guessing it from
// the first delivery.
func watchStart(w Watch) (int64, bool) {
	if w.Revision > 0 {
		return w.Revision, true
	}
	for _, r := range w.Responses {
		switch {
		case r.Created:
			return r.Revision + 1, true
		case len(r.Events) > 0:
			return r.Events[0].KV.ModRevision, false
		case r.Progress:
			return r.Revision + 1, false
		}
	}
	return 0, false
}

// watchWants says whether w asked for e: its range and filters.
func watchWants(w Watch, e WatchEvent) bool {
	if !w.Covers(e.KV.Key) {
		return false
	}
	return !(w.NoPut && e.Type == EventPut) && !(w.NoDelete && e.Type == EventDelete)
}

type watchRevKey struct {
	rev int64
	key string
}

// checkWatch checks one watch's own stream (order, atomicity, uniqueness,
// values, compaction) and then what it missed.
func (c *watchChecker) checkWatch(w Watch) watchSpan {
	start, said := watchStart(w)
	span := watchSpan{start: start, last: start - 1, lastAt: w.Call}
	seen := map[watchRevKey]bool{}
	var points []watchPoint
	var lastRev, progress int64
	lastResp := -1
	var lastAt, progressAt time.Duration
	for i, r := range w.Responses {
		for _, e := range r.Events {
			c.rep.Events++
			rk := watchRevKey{e.KV.ModRevision, e.KV.Key}
			if seen[rk] {
				c.problem(WatchDuplicate, w, rk, r.At, r.At, nil, &e, fmt.Sprintf("delivered %s again", watchEventString(e)))
				continue
			}
			seen[rk] = true
			switch {
			case rk.rev <= progress:
				c.problem(WatchUnordered, w, rk, r.At, r.At, nil, &e, fmt.Sprintf("delivered %s after a progress notification at rev %d (at %s) said every change up to it was delivered", watchEventString(e), progress, fmtAt(progressAt)))
			case rk.rev < lastRev:
				c.problem(WatchUnordered, w, rk, r.At, r.At, nil, &e, fmt.Sprintf("delivered %s after an event at rev %d (at %s)", watchEventString(e), lastRev, fmtAt(lastAt)))
			case rk.rev == lastRev && i != lastResp:
				c.problem(WatchSplit, w, rk, r.At, r.At, nil, &e, fmt.Sprintf("delivered %s in a later response than rev %d's other events (at %s)", watchEventString(e), lastRev, fmtAt(lastAt)))
			}
			if rk.rev > lastRev {
				lastRev, lastResp, lastAt = rk.rev, i, r.At
			}
			c.checkEvent(w, start, said, e, r.At)
		}
		if r.Progress && r.Revision > progress {
			progress, progressAt = r.Revision, r.At
		}
		if top := max(lastRev, progress); top > span.last {
			span.last, span.lastAt = top, r.At
			points = append(points, watchPoint{rev: top, at: r.At, progress: top == progress && top > lastRev})
		}
		if r.CompactRevision != 0 {
			c.compacted(w, r, span.last)
		}
	}
	if len(w.Responses) >= maxWatchResponses {
		c.rep.Notes = append(c.rep.Notes, fmt.Sprintf("%s: only its first %d responses were recorded; checked up to rev %d", w, maxWatchResponses, span.last))
	}
	if start > 0 {
		c.checkMissing(w, span, seen, points)
	}
	return span
}

// checkEvent checks that e is one w asked for and the ground truth's.
func (c *watchChecker) checkEvent(w Watch, start int64, said bool, e WatchEvent, at time.Duration) {
	rk := watchRevKey{e.KV.ModRevision, e.KV.Key}
	unwanted := ""
	switch {
	case !w.Covers(e.KV.Key):
		unwanted = "outside the watched range"
	case w.NoPut && e.Type == EventPut:
		unwanted = "a put, which the watch filters out (clientv3.WithFilterPut)"
	case w.NoDelete && e.Type == EventDelete:
		unwanted = "a delete, which the watch filters out (clientv3.WithFilterDelete)"
	case said && rk.rev < start:
		unwanted = fmt.Sprintf("before the watch's start, rev %d", start)
	}
	if unwanted != "" {
		c.problem(WatchMismatch, w, rk, at, at, nil, &e, fmt.Sprintf("delivered %s: %s", watchEventString(e), unwanted))
		return
	}
	want, ok := c.truth.lookup(rk)
	if !ok {
		if c.truth.authoritative(rk.rev) {
			c.problem(WatchMismatch, w, rk, at, at, nil, &e, fmt.Sprintf("delivered %s, which is not in %s: %s", watchEventString(e), c.truth.source(rk.rev), c.truth.revisionString(rk.rev)))
		}
		return
	}
	if d := watchEventDiffs(e, want, w.PrevKV); len(d) > 0 {
		c.problem(WatchMismatch, w, rk, at, at, &want.WatchEvent, &e, fmt.Sprintf("delivered %s; expected %s, from %s: %s", watchEventString(e), want, c.truth.source(rk.rev), strings.Join(d, ", ")))
	}
}

// watchEventDiffs lists how got differs from want, in the fields want knows.
func watchEventDiffs(got WatchEvent, want watchKnownEvent, prevAsked bool) []string {
	if got.Type != want.Type {
		return []string{fmt.Sprintf("a %s instead of a %s", got.Type, want.Type)}
	}
	var d []string
	g, w := got.KV, want.KV
	if want.known&watchKnowValue != 0 && g.Value != w.Value {
		d = append(d, fmt.Sprintf("value %q instead of %q", g.Value, w.Value))
	}
	nums := []struct {
		what      string
		bit       watchKnown
		got, want int64
	}{
		{"create revision", watchKnowCreate, g.CreateRevision, w.CreateRevision},
		{"version", watchKnowVersion, g.Version, w.Version},
		{"lease", watchKnowLease, g.Lease, w.Lease},
	}
	for _, n := range nums {
		if want.known&n.bit != 0 && n.got != n.want {
			d = append(d, fmt.Sprintf("%s %d instead of %d", n.what, n.got, n.want))
		}
	}
	// A missing previous key-value is not held against the watch: etcd
	// leaves it out when the previous revision was compacted.
	if prevAsked && got.PrevKV != nil && want.known&watchKnowPrev != 0 {
		switch p := got.PrevKV; {
		case want.PrevKV == nil:
			d = append(d, fmt.Sprintf("a previous value %q (mod %d) though the key did not exist before", p.Value, p.ModRevision))
		case *p != *want.PrevKV:
			d = append(d, fmt.Sprintf("previous value %q (mod %d, version %d) instead of %q (mod %d, version %d)", p.Value, p.ModRevision, p.Version, want.PrevKV.Value, want.PrevKV.ModRevision, want.PrevKV.Version))
		}
	}
	return d
}

// checkMissing reports each run of the ground truth's changes of w's range
// in [start, last] that w did not deliver.
func (c *watchChecker) checkMissing(w Watch, span watchSpan, seen map[watchRevKey]bool, points []watchPoint) {
	var run []watchKnownEvent
	flush := func() {
		if len(run) == 0 {
			return
		}
		first := run[0]
		from, at, when := c.deliveredAround(w, first.KV.ModRevision, points)
		rk := watchRevKey{first.KV.ModRevision, first.KV.Key}
		c.problem(WatchMissing, w, rk, from, at, &first.WatchEvent, nil, fmt.Sprintf("%s not delivered: %s; %s", watchCount(len(run), "change", "changes"), watchEventList(run), when))
		run = nil
	}
	for _, e := range c.truth.between(span.start, span.last) {
		if !watchWants(w, e.WatchEvent) {
			continue
		}
		if seen[watchRevKey{e.KV.ModRevision, e.KV.Key}] {
			flush()
			continue
		}
		run = append(run, e)
	}
	flush()
}

// deliveredAround says when w passed over rev: the interval from its
// delivery before rev to the one that vouched for rev, and in words.
func (c *watchChecker) deliveredAround(w Watch, rev int64, points []watchPoint) (from, at time.Duration, when string) {
	i := sort.Search(len(points), func(i int) bool { return points[i].rev >= rev })
	if i == len(points) { // cannot happen: rev <= span.last, the last point
		return w.Call, w.Call, "the watch never got past it"
	}
	p := points[i]
	what := fmt.Sprintf("an event at rev %d", p.rev)
	if p.progress {
		what = fmt.Sprintf("a progress notification at rev %d", p.rev)
	}
	if i == 0 {
		return w.Call, p.at, fmt.Sprintf("the watch's first delivery was %s at %s", what, fmtAt(p.at))
	}
	q := points[i-1]
	return q.at, p.at, fmt.Sprintf("the watch delivered up to rev %d at %s, then %s at %s", q.rev, fmtAt(q.at), what, fmtAt(p.at))
}

// compacted lists a compaction etcd announced to w.
func (c *watchChecker) compacted(w Watch, r WatchResponse, last int64) {
	p := WatchProblem{Kind: WatchCompacted, Watch: w, Key: w.Key, Revision: r.CompactRevision, At: r.At, Faults: c.faultsDuring(r.At, r.At),
		Detail: fmt.Sprintf("events lost, announced by etcd (compacted at revision %d): the watch wanted rev %d on; the code must re-list (Get) and watch from the Get's revision + 1", r.CompactRevision, last+1)}
	c.rep.Announced = append(c.rep.Announced, p)
}

// checkResumes finds the code's own resumes (a watch of the same client,
// range and filters from an explicit revision after the previous one
// ended) that skipped changes.
func (c *watchChecker) checkResumes(watches []Watch, spans []watchSpan) {
	type group struct {
		client          int
		key, end        string
		noPut, noDelete bool
	}
	groups := map[group][]int{}
	var order []group
	for i, w := range watches {
		g := group{w.Client, w.Key, w.End, w.NoPut, w.NoDelete}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], i)
	}
	for _, g := range order {
		idx := groups[g]
		slices.SortStableFunc(idx, func(a, b int) int { return int(watches[a].Call - watches[b].Call) })
		for k := 1; k < len(idx); k++ {
			c.checkResume(watches[idx[k-1]], spans[idx[k-1]], watches[idx[k]])
		}
	}
}

func (c *watchChecker) checkResume(prev Watch, span watchSpan, next Watch) {
	ended, how := watchEnded(prev)
	from := next.Revision
	if from == 0 || !ended || span.start == 0 || from <= span.last+1 {
		return
	}
	relists := c.relists(next)
	relisted := func(key string) bool {
		return slices.ContainsFunc(relists, func(op Op) bool { return op.Covers(key) })
	}
	var skipped []watchKnownEvent
	for _, e := range c.truth.between(span.last+1, from-1) {
		if watchWants(next, e.WatchEvent) && !relisted(e.KV.Key) {
			skipped = append(skipped, e)
		}
	}
	if len(skipped) == 0 {
		return
	}
	first := skipped[0]
	rk := watchRevKey{first.KV.ModRevision, first.KV.Key}
	c.problem(WatchResumeGap, next, rk, span.lastAt, next.Call, &first.WatchEvent, nil, fmt.Sprintf(
		"resumed from rev %d, but the previous watch (%s) delivered up to rev %d and %s; %s never delivered nor re-listed: %s; resume from rev %d, or re-list with a Get and watch from its revision + 1",
		from, prev, span.last, how, watchCount(len(skipped), "change", "changes"), watchEventList(skipped), span.last+1))
}

// watchEnded says whether w's channel ended, and how.
func watchEnded(w Watch) (bool, string) {
	for _, r := range w.Responses {
		switch {
		case r.CompactRevision != 0:
			return true, fmt.Sprintf("ended at %s, compacted at revision %d", fmtAt(r.At), r.CompactRevision)
		case r.Canceled:
			return true, fmt.Sprintf("was canceled at %s (%s)", fmtAt(r.At), r.Err)
		}
	}
	if w.Closed != 0 {
		return true, fmt.Sprintf("closed at %s", fmtAt(w.Closed))
	}
	return false, ""
}

// relists are the reads of w's client at a revision no lower than the one
// before w's start: re-lists, which make the changes they saw unnecessary
// to a watch from there.
func (c *watchChecker) relists(w Watch) []Op {
	var gets []Op
	for _, o := range c.ops {
		if o.Client != w.Client || o.Outcome != Succeeded || o.Response == nil {
			continue
		}
		branch := o.Request.Then
		if o.Request.Txn && !o.Response.Succeeded {
			branch = o.Request.Else
		}
		for _, op := range branch {
			rev := op.Revision
			if rev == 0 {
				rev = o.Response.Revision
			}
			if op.Type == OpGet && !op.CountOnly && rev >= w.Revision-1 {
				gets = append(gets, op)
			}
		}
	}
	return gets
}

// problem records a broken guarantee, with the faults in force between
// from and at.
func (c *watchChecker) problem(kind WatchProblemKind, w Watch, rk watchRevKey, from, at time.Duration, want, got *WatchEvent, detail string) {
	if got != nil {
		g := *got
		got = &g
	}
	c.rep.Problems = append(c.rep.Problems, WatchProblem{Kind: kind, Watch: w, Key: rk.key, Revision: rk.rev, Detail: detail,
		At: at, Faults: c.faultsDuring(from, at), Expected: want, Delivered: got})
}

// faultsDuring lists the fault windows that overlap [from, to].
func (c *watchChecker) faultsDuring(from, to time.Duration) []FaultWindow {
	var in []FaultWindow
	for _, f := range c.faults {
		if f.Start <= to && (f.End == 0 || f.End >= from) {
			in = append(in, f)
		}
	}
	return in
}

func watchEventString(e WatchEvent) string {
	if e.Type == EventDelete {
		return fmt.Sprintf("delete %s at rev %d", e.KV.Key, e.KV.ModRevision)
	}
	return fmt.Sprintf("put %s=%q at rev %d", e.KV.Key, e.KV.Value, e.KV.ModRevision)
}

// watchEventList names the first few of evs.
func watchEventList(evs []watchKnownEvent) string {
	const show = 3
	s := make([]string, 0, show+1)
	for i, e := range evs {
		if i == show {
			s = append(s, fmt.Sprintf("and %d more", len(evs)-show))
			break
		}
		s = append(s, e.String())
	}
	return strings.Join(s, ", ")
}

func watchCount(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// The ground truth.

// watchKnown says which fields of a ground-truth event are known, beyond
// its type, key and revision.
type watchKnown uint8

const (
	watchKnowValue watchKnown = 1 << iota
	watchKnowLease
	watchKnowCreate
	watchKnowVersion
	watchKnowPrev // PrevKV, nil meaning the key did not exist before
	watchKnowAll  = watchKnowValue | watchKnowLease | watchKnowCreate | watchKnowVersion
)

// watchKnownEvent is one change the ground truth knows of.
type watchKnownEvent struct {
	WatchEvent
	known watchKnown
	by    *Operation // the recorded write that made its revision, if any
}

func (e watchKnownEvent) String() string {
	s := watchEventString(e.WatchEvent)
	if o := e.by; o != nil {
		s += fmt.Sprintf(" (client %d's %s [%s, %s])", o.Client, o.Request, fmtAt(o.Call), fmtAt(o.Return))
	}
	return s
}

// watchTruth is every change the checker knows of, by revision and key.
type watchTruth struct {
	events []watchKnownEvent // by revision, then key
	index  map[watchRevKey]int
	// etcd: etcd's own history is known from etcdFrom on (every change of
	// the watched ranges); below it, and without it, the recorded writes.
	etcd     bool
	etcdFrom int64
	// whole are the revisions below etcdFrom whose every change is known
	// from a recorded write.
	whole map[int64]bool
	note  string
}

// watchTruth gathers the ground truth for watches.
func (h *History) watchTruth(watches []Watch) *watchTruth {
	etcdEvents, err := h.etcdEvents()
	h.mu.Lock()
	read := h.stopped && len(h.bases) > 0
	h.mu.Unlock()
	writes, whole, writers := watchWrites(h.Operations())
	t := &watchTruth{whole: whole, index: map[watchRevKey]int{}}
	switch {
	case err != nil:
		t.note = "checked against the recorded writes only: " + err.Error()
	case etcdEvents == nil && !read && len(watches) > 0:
		t.note = "checked against the recorded writes only: etcd's own history is read by History.Stop through a client from History.Client, and this history has none, or was not stopped"
	default:
		t.etcd = true
		t.etcdFrom = watchTruthFrom(watches)
	}
	if t.etcd {
		for _, e := range watchEtcdEvents(etcdEvents) {
			e.by = writers[e.KV.ModRevision]
			t.events = append(t.events, e)
		}
		for rev := range t.whole {
			if rev >= t.etcdFrom {
				delete(t.whole, rev)
			}
		}
	}
	for _, e := range writes {
		if !t.etcd || e.KV.ModRevision < t.etcdFrom {
			t.events = append(t.events, e)
		}
	}
	slices.SortStableFunc(t.events, func(a, b watchKnownEvent) int {
		if a.KV.ModRevision != b.KV.ModRevision {
			return int(a.KV.ModRevision - b.KV.ModRevision)
		}
		return strings.Compare(a.KV.Key, b.KV.Key)
	})
	t.events = slices.CompactFunc(t.events, func(a, b watchKnownEvent) bool {
		return a.KV.ModRevision == b.KV.ModRevision && a.KV.Key == b.KV.Key
	})
	for i, e := range t.events {
		t.index[watchRevKey{e.KV.ModRevision, e.KV.Key}] = i
	}
	return t
}

// watchTruthFrom is the revision Stop read etcd's history from: the lowest
// start of the watches (startOf, as readTruth computes it).
func watchTruthFrom(watches []Watch) int64 {
	from := int64(0)
	for _, w := range watches {
		if s := startOf(w); s > 0 && (from == 0 || s < from) {
			from = s
		}
	}
	return from
}

// watchEtcdEvents marks etcd's events as known in full, and derives each
// one's previous key-value from the change before it (etcd's history is
// complete from where it starts; a first version needs no history).
func watchEtcdEvents(evs []WatchEvent) []watchKnownEvent {
	sorted := slices.Clone(evs)
	slices.SortStableFunc(sorted, func(a, b WatchEvent) int { return int(a.KV.ModRevision - b.KV.ModRevision) })
	last := map[string]*KV{}
	out := make([]watchKnownEvent, 0, len(sorted))
	for _, e := range sorted {
		k := watchKnownEvent{WatchEvent: e, known: watchKnowAll}
		prev, seen := last[e.KV.Key]
		switch {
		case e.PrevKV != nil:
			k.known |= watchKnowPrev
		case seen:
			k.PrevKV, k.known = prev, k.known|watchKnowPrev
		case e.Type == EventPut && e.KV.Version == 1:
			k.known |= watchKnowPrev
		}
		if e.Type == EventPut {
			kv := e.KV
			last[e.KV.Key] = &kv
		} else {
			last[e.KV.Key] = nil
		}
		out = append(out, k)
	}
	return out
}

// watchWrites turns the acknowledged writes into the changes they made:
// a put at the response's revision, a delete per key a Delete removed (its
// previous key-values tell which, else its single key), all the ops of a
// Txn's branch at one revision. whole lists the revisions whose every
// changed key is known; writers the write that made each revision.
func watchWrites(ops []Operation) (evs []watchKnownEvent, whole map[int64]bool, writers map[int64]*Operation) {
	whole, writers = map[int64]bool{}, map[int64]*Operation{}
	for i := range ops {
		o := &ops[i]
		if o.Outcome != Succeeded || o.Response == nil || !o.Request.Writes() {
			continue
		}
		rev := o.Response.Revision
		if _, dup := writers[rev]; dup {
			continue // two writes cannot make one revision: a linearizability problem, not a watch's
		}
		got, all := watchWriteEvents(o)
		if len(got) == 0 && all {
			continue // deleted nothing: no revision
		}
		writers[rev] = o
		whole[rev] = all
		for _, e := range got {
			e.by = o
			evs = append(evs, e)
		}
	}
	return evs, whole, writers
}

// watchWriteEvents are the changes one acknowledged write made, and
// whether they are all of them.
func watchWriteEvents(o *Operation) ([]watchKnownEvent, bool) {
	branch := o.Request.Then
	if o.Request.Txn && !o.Response.Succeeded {
		branch = o.Request.Else
	}
	rev := o.Response.Revision
	var evs []watchKnownEvent
	all := true
	for j, op := range branch {
		res, answered := Result{}, j < len(o.Response.Results)
		if answered {
			res = o.Response.Results[j]
		}
		switch op.Type {
		case OpPut:
			evs = append(evs, watchPutEvent(op, res, answered, rev))
		case OpDelete:
			switch {
			case !answered:
				all = false
			case res.Deleted == 0:
			case len(res.PrevKVs) > 0:
				for _, p := range res.PrevKVs {
					evs = append(evs, watchKnownEvent{WatchEvent: WatchEvent{Type: EventDelete, KV: KV{Key: p.Key, ModRevision: rev}, PrevKV: &p}, known: watchKnowAll | watchKnowPrev})
				}
			case !op.Ranged():
				evs = append(evs, watchKnownEvent{WatchEvent: WatchEvent{Type: EventDelete, KV: KV{Key: op.Key, ModRevision: rev}}, known: watchKnowAll})
			default:
				all = false // a range deleted without its previous key-values: which keys is unknown
			}
		}
	}
	return evs, all
}

// watchPutEvent is the change one acknowledged Put made: its value and
// lease unless it kept the old ones, its create revision and version when
// it asked for the previous key-value.
func watchPutEvent(op Op, res Result, answered bool, rev int64) watchKnownEvent {
	e := watchKnownEvent{WatchEvent: WatchEvent{Type: EventPut, KV: KV{Key: op.Key, Value: op.Value, ModRevision: rev, Lease: op.Lease}}}
	if !op.IgnoreValue {
		e.known |= watchKnowValue
	}
	if !op.IgnoreLease {
		e.known |= watchKnowLease
	}
	if op.PrevKV && answered {
		e.known |= watchKnowCreate | watchKnowVersion | watchKnowPrev
		e.KV.CreateRevision, e.KV.Version = rev, 1
		if len(res.PrevKVs) > 0 {
			p := res.PrevKVs[0]
			e.PrevKV = &p
			e.KV.CreateRevision, e.KV.Version = p.CreateRevision, p.Version+1
			if op.IgnoreValue {
				e.KV.Value, e.known = p.Value, e.known|watchKnowValue
			}
			if op.IgnoreLease {
				e.KV.Lease, e.known = p.Lease, e.known|watchKnowLease
			}
		}
	}
	return e
}

func (t *watchTruth) lookup(rk watchRevKey) (watchKnownEvent, bool) {
	i, ok := t.index[rk]
	if !ok {
		return watchKnownEvent{}, false
	}
	return t.events[i], true
}

// authoritative says whether the truth knows every change at rev.
func (t *watchTruth) authoritative(rev int64) bool {
	return (t.etcd && rev >= t.etcdFrom) || t.whole[rev]
}

// source names what the truth at rev comes from.
func (t *watchTruth) source(rev int64) string {
	if t.etcd && rev >= t.etcdFrom {
		return "etcd's history"
	}
	return "the recorded writes"
}

// between returns the known changes with revisions in [lo, hi].
func (t *watchTruth) between(lo, hi int64) []watchKnownEvent {
	i := sort.Search(len(t.events), func(i int) bool { return t.events[i].KV.ModRevision >= lo })
	j := sort.Search(len(t.events), func(i int) bool { return t.events[i].KV.ModRevision > hi })
	if i >= j {
		return nil
	}
	return t.events[i:j]
}

// revisionString says what the truth has at rev.
func (t *watchTruth) revisionString(rev int64) string {
	evs := t.between(rev, rev)
	if len(evs) == 0 {
		return fmt.Sprintf("no change of the watched keys at rev %d", rev)
	}
	return fmt.Sprintf("rev %d is %s", rev, watchEventList(evs))
}
