package chaos

// A Recording samples every elector's belief on a fixed tick from one
// goroutine and keeps only what changed: the elected intervals per elector,
// the instants two or more believed at once, the leaderless gaps, and each
// new election's fencing token. Memory grows with the number of changes, not
// with time (and is capped), so a run of hours costs what its elections cost.
// Sampling reads each elector one after the other: an overlap shorter than
// one tick can be missed, and one that is seen is real (both said "elected"
// within one round, well under a millisecond apart).

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultInterval is how often Record reads every elector's belief.
const DefaultInterval = 500 * time.Microsecond

// maxChanges caps what a Recording keeps (intervals, overlaps, gaps,
// events, each): a flapping elector must not grow memory without bound.
// Report.Truncated says when the cap was hit.
const maxChanges = 100_000

// RecordOptions tune a Recording; the zero value is Record's behaviour.
type RecordOptions struct {
	// Interval between two reads of every elector; 0 means DefaultInterval.
	Interval time.Duration
	// MaxGap is the longest leaderless gap (after the first election) that
	// is safe; longer ones are listed in Report.LongGaps and fail
	// matchers.BeSafe. 0 means gaps are reported, never failed.
	MaxGap time.Duration
	// Conditions are invariants other than elections, sampled with the
	// electors on the same tick: the report says when each did not hold
	// (Report.Conditions), and matchers.BeSafe fails one that was false
	// longer than its MaxFalse. With conditions, the electors may be none.
	Conditions []Condition
}

// Recording watches a group of electors from Record until Stop.
type Recording struct {
	electors []Elector
	ids      []string
	conds    []Condition
	opts     RecordOptions
	start    time.Time

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	stopped  atomic.Bool
	rounds   atomic.Int64

	mu     sync.Mutex
	state  []belief         // per elector, owned by the sampler; read under mu
	tracks []conditionTrack // per condition, under mu
	rep    Report           // what is known so far; finished by Stop
	gapAt  time.Time
	anyone bool // someone was elected at the last round
	ovAt   int  // index+1 of the open overlap in rep.Overlaps, 0 if none
	maxTok int64
	maxID  string
	final  Report
}

type belief struct {
	elected bool
	token   int64
	since   time.Time
}

// Record starts reading every elector's belief every DefaultInterval (half
// a millisecond) until Stop, and listens to the select events of electors
// that report them (Selecting):
//
//	rec := chaos.Record(a, b, c)
//	// ... faults, handovers ...
//	Expect(rec.Stop()).To(matchers.BeSafe())
//
// IDs must be unique among the electors; Record panics on a duplicate or on
// no electors, as either is a mistake in the test.
func Record(electors ...Elector) *Recording {
	return RecordWith(RecordOptions{}, electors...)
}

// RecordWith is Record with options: another sampling interval, a bound
// on leaderless gaps, or conditions to record next to the electors (then
// the electors may be none):
//
//	rec := chaos.RecordWith(chaos.RecordOptions{Conditions: []chaos.Condition{
//		{Name: "registered", Holds: registered.Load, MaxFalse: 2 * time.Second},
//	}})
func RecordWith(opts RecordOptions, electors ...Elector) *Recording {
	if len(electors) == 0 && len(opts.Conditions) == 0 {
		panic("chaos.Record: no electors: pass the electors whose beliefs to record (or RecordOptions.Conditions)")
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	r := &Recording{
		electors: electors,
		conds:    opts.Conditions,
		opts:     opts,
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		state:    make([]belief, len(electors)),
	}
	r.ids = recordedNames(electors, opts.Conditions)
	for _, c := range opts.Conditions {
		r.tracks = append(r.tracks, newConditionTrack(c))
	}
	r.start = time.Now()
	r.rep = Report{Electors: slices.Clip(r.ids[:len(electors)]), Start: r.start, Interval: opts.Interval, MaxGap: opts.MaxGap, Lanes: make([][]Interval, len(electors))}
	for i, e := range electors {
		if s, ok := e.(Selecting); ok {
			id := r.ids[i]
			s.OnSelect(func(ctx context.Context, value string) { r.selected(ctx, id, value) })
		}
	}
	r.sample(time.Now()) // the state at the start, before the first tick
	go r.loop()
	return r
}

// recordedNames returns the electors' IDs, then the conditions' names, and
// panics on a duplicate, an empty name or a condition without Holds: each is
// a mistake in the test.
func recordedNames(electors []Elector, conds []Condition) []string {
	var names []string
	seen := map[string]bool{}
	for _, e := range electors {
		id := e.ID()
		if seen[id] {
			panic(fmt.Sprintf("chaos.Record: two electors with ID %q: give each a unique ID, or the report cannot tell them apart", id))
		}
		seen[id] = true
		names = append(names, id)
	}
	for i, c := range conds {
		switch {
		case c.Name == "":
			panic(fmt.Sprintf("chaos.Record: condition %d has no Name: name it, for its lane in the report", i))
		case c.Holds == nil:
			panic(fmt.Sprintf("chaos.Record: condition %q has no Holds: give it the func that says whether it holds now", c.Name))
		case c.MaxFalse < 0:
			panic(fmt.Sprintf("chaos.Record: condition %q has a negative MaxFalse (%v): use 0 for never false, or the longest it may be false", c.Name, c.MaxFalse))
		case seen[c.Name]:
			panic(fmt.Sprintf("chaos.Record: the name %q is taken twice among electors and conditions: give each a unique one, or the report cannot tell them apart", c.Name))
		}
		seen[c.Name] = true
		names = append(names, c.Name)
	}
	return names
}

func (r *Recording) loop() {
	defer close(r.done)
	t := time.NewTicker(r.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.sample(time.Now()) // the tick's own time is when it was due; the reads happen now
		}
	}
}

// sample reads every elector once and records what changed.
func (r *Recording) sample(now time.Time) {
	r.rounds.Add(1)
	var cur [8]belief
	beliefs := cur[:0]
	for _, e := range r.electors {
		elected, token := read(e)
		beliefs = append(beliefs, belief{elected: elected, token: token})
	}
	var held [8]bool
	holds := held[:0]
	for _, c := range r.conds {
		holds = append(holds, c.Holds())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, h := range holds {
		r.tracks[i].see(h, now)
	}
	var believers []string
	for i, b := range beliefs {
		prev := r.state[i]
		if b.elected {
			believers = append(believers, r.ids[i])
		}
		if b.elected == prev.elected && b.token == prev.token {
			continue
		}
		if prev.elected {
			r.closeInterval(i, now)
		}
		if b.elected {
			r.openInterval(i, b.token, now)
		}
		r.state[i] = belief{elected: b.elected, token: b.token, since: now}
	}
	r.overlap(believers, now)
	r.gap(len(believers) > 0, now)
}

func (r *Recording) closeInterval(i int, now time.Time) {
	lane := r.rep.Lanes[i]
	if n := len(lane); n > 0 && lane[n-1].To.IsZero() {
		lane[n-1].To = now
	}
}

func (r *Recording) openInterval(i int, token int64, now time.Time) {
	if len(r.rep.Lanes[i]) >= maxChanges {
		r.rep.Truncated = true
		return
	}
	r.rep.Lanes[i] = append(r.rep.Lanes[i], Interval{From: now, Token: token})
	if token == 0 {
		return // no token to check
	}
	id := r.ids[i]
	switch {
	case token > r.maxTok:
		r.maxTok, r.maxID = token, id
	case token == r.maxTok && id == r.maxID:
		r.rep.Lapses++ // the same election regained belief: no new leader
	default:
		if len(r.rep.Regressions) < maxChanges {
			r.rep.Regressions = append(r.rep.Regressions, Regression{At: now, ID: id, Token: token, PrevID: r.maxID, PrevToken: r.maxTok})
		}
	}
}

// overlap opens, extends, splits or closes the current overlap.
func (r *Recording) overlap(believers []string, now time.Time) {
	if r.ovAt > 0 {
		ov := &r.rep.Overlaps[r.ovAt-1]
		if len(believers) > 1 && sameIDs(ov.IDs, believers) {
			return
		}
		ov.To = now
		r.ovAt = 0
	}
	if len(believers) > 1 {
		if len(r.rep.Overlaps) >= maxChanges {
			r.rep.Truncated = true
			return
		}
		r.rep.Overlaps = append(r.rep.Overlaps, Overlap{From: now, IDs: believers})
		r.ovAt = len(r.rep.Overlaps)
	}
}

// gap tracks leaderless time after the first election.
func (r *Recording) gap(someone bool, now time.Time) {
	switch {
	case someone && !r.anyone:
		if !r.gapAt.IsZero() && len(r.rep.Gaps) < maxChanges {
			r.rep.Gaps = append(r.rep.Gaps, Interval{From: r.gapAt, To: now})
		}
		if r.rep.FirstElected.IsZero() {
			r.rep.FirstElected = now
		}
	case !someone && r.anyone:
		r.gapAt = now
	}
	r.anyone = someone
}

func sameIDs(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// selected records an elector's own select event, and its deselect when ctx
// ends. After Stop the hook does nothing (a hook cannot be unregistered).
func (r *Recording) selected(ctx context.Context, id, value string) {
	if r.stopped.Load() {
		return
	}
	r.event(Event{At: time.Now(), ID: id, Selected: true, Value: value})
	go func() {
		select {
		case <-ctx.Done():
			r.event(Event{At: time.Now(), ID: id, Value: value})
		case <-r.stop:
		}
	}()
}

func (r *Recording) event(e Event) {
	if r.stopped.Load() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.rep.Events) >= maxChanges {
		r.rep.Truncated = true
		return
	}
	r.rep.Events = append(r.rep.Events, e)
}

// Note adds a fault window to the recording, for the report's timeline and
// picture. Run notes its steps itself when given the recording
// (Options.Recording); call Note for faults of your own.
func (r *Recording) Note(s Step) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.rep.Faults) < maxChanges {
		r.rep.Faults = append(r.rep.Faults, s)
	}
}

// Events returns the select and deselect events so far.
func (r *Recording) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.rep.Events...)
}

// Stopped reports whether Stop was called.
func (r *Recording) Stopped() bool { return r.stopped.Load() }

// Samples is how many times every elector was read so far.
func (r *Recording) Samples() int64 { return r.rounds.Load() }

// Elected returns the IDs of the electors that believe they are elected now.
func (r *Recording) Elected() []string { return Elected(r.electors...) }

// Stop ends sampling and returns the report. Calling it again returns the
// same report.
func (r *Recording) Stop() Report {
	r.stopOnce.Do(func() {
		r.stopped.Store(true)
		close(r.stop)
		<-r.done
		end := time.Now()
		r.mu.Lock()
		defer r.mu.Unlock()
		for i, b := range r.state {
			if b.elected {
				r.closeInterval(i, end)
			}
		}
		if r.ovAt > 0 {
			r.rep.Overlaps[r.ovAt-1].To = end
		}
		if !r.anyone && !r.gapAt.IsZero() {
			r.rep.Gaps = append(r.rep.Gaps, Interval{From: r.gapAt, To: end})
		}
		for i := range r.tracks {
			r.rep.Conditions = append(r.rep.Conditions, r.tracks[i].end(end))
		}
		r.rep.End = end
		r.rep.Samples = r.rounds.Load()
		r.final = r.rep
	})
	return r.final
}
