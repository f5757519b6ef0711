package chaos

// Run draws every choice — fault, target, hold — from one generator seeded
// by Options.Seed, and draws the same number of values per step whatever the
// cluster looks like, so a seed always yields the same sequence of steps.
// What a target resolves to can depend on the cluster (which member is raft
// leader now); the step records the members it hit. One fault at a time: it
// is injected, held, then healed, and the next one starts only after the
// heal returned (every etcdtest repair settles before it returns). However
// Run ends — its time is up, ctx is cancelled, a fault fails, Check fails —
// it heals everything it may have broken before returning.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// Fault is a kind of fault Run injects.
type Fault string

// The faults Run chooses among. Each is healed at the end of its step.
const (
	Kill       Fault = "kill"        // Member.Kill (SIGKILL); healed by Restart
	Pause      Fault = "pause"       // Member.Pause (SIGSTOP); healed by Resume
	Restart    Fault = "restart"     // Member.Restart: a graceful stop and start, done in the step
	Isolate    Fault = "isolate"     // Cluster.Isolate each target; healed by Heal
	Partition  Fault = "partition"   // Cluster.Partition(targets, the others); healed by Heal
	OneWay     Fault = "one-way cut" // Cluster.CutOneWay(targets, the others): their messages are lost; healed by Heal
	Latency    Fault = "latency"     // Cluster.Delay(150ms–1s, targets...); healed by Heal
	Loss       Fault = "loss"        // Cluster.Drop(10–50%, targets...); healed by Heal
	CutClient  Fault = "cut client"  // ClientLink.Cut of one of Options.Links; healed by Heal
	MoveLeader Fault = "move leader" // Cluster.MoveLeader to another member: an operator's hand-over, done in the step
	// Failpoint arms a failpoint of etcd's robustness suite on the targets
	// (a panic or a sleep at a storage, raft-send, defragmentation or
	// compaction point), drives them to it, and at the end of the hold
	// restarts a member that crashed and clears it on the others. Chosen
	// only on clusters with etcdtest.Config.Failpoints.
	Failpoint Fault = "failpoint"
)

// AllFaults returns the faults Run chooses among by default, in a new slice
// each call (so no caller can change another's defaults). CutClient needs
// Options.Links and is left out without them; Failpoint needs a cluster
// with failpoints (etcdtest.Config.Failpoints) and is left out on others.
func AllFaults() []Fault { return slices.Clone(allFaults) }

var allFaults = []Fault{Kill, Pause, Restart, Isolate, Partition, OneWay, Latency, Loss, CutClient, MoveLeader, Failpoint}

// ParseFaults reads a comma-separated list of fault names ("kill,pause,cut
// client"), as a suite takes them from an environment variable to run one
// kind of fault alone or to replay another suite's schedule; "" is nil, which
// Options reads as AllFaults().
func ParseFaults(list string) ([]Fault, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	var faults []Fault
	for _, name := range strings.Split(list, ",") {
		f := Fault(strings.TrimSpace(name))
		if !slices.Contains(allFaults, f) {
			return nil, fmt.Errorf("chaos: no fault %q; the faults are %q", f, allFaults)
		}
		faults = append(faults, f)
	}
	return faults, nil
}

// Target says which members a fault hits.
type Target string

// The targets Run chooses among.
const (
	Random     Target = "random"      // one member, drawn at random
	RaftLeader Target = "raft leader" // the member etcd's raft leader is at that moment
	Minority   Target = "minority"    // (n-1)/2 members at random (1 of 3): the cluster keeps a quorum
	Majority   Target = "majority"    // n/2+1 members at random (2 of 3): kills and pauses cost the quorum
)

// AllTargets returns the targets Run chooses among by default, in a new
// slice each call.
func AllTargets() []Target { return slices.Clone(allTargets) }

var allTargets = []Target{Random, RaftLeader, Minority, Majority}

// Options say what Run does. Only Seed and Duration are needed.
type Options struct {
	Seed     int64         // the same seed draws the same steps
	Duration time.Duration // how long to inject faults; 0 means 10 s. The last step's heal may end a little later

	Faults  []Fault  // what to choose among; nil means AllFaults()
	Targets []Target // whom to aim at; nil means AllTargets()

	// MinHold and MaxHold bound how long a fault is held before it is
	// healed; zero means 100 ms and 1.5 s.
	MinHold, MaxHold time.Duration

	// Links are clients' own routes to the cluster (Cluster.NewClientLink)
	// that CutClient may cut; without them CutClient is not chosen.
	Links []*etcdtest.ClientLink

	// Recording, when set, gets every step as a fault window (Note), so its
	// report's timeline and picture show the faults.
	Recording *Recording

	// History, when set, gets every step as a fault window (History.Note),
	// so a check of its operations names the faults in force at each one
	// and its picture shows them.
	History *History

	// Check, when set, runs after every heal; an error ends the run (after
	// healing) and is returned. Liveness checks go here, for example
	// "exactly one elector is elected again within 5 s".
	Check func(ctx context.Context) error

	// Log, when set, gets a line per step as it starts.
	Log io.Writer
}

// Step is one fault: what, at whom, when, for how long.
type Step struct {
	N          int           // 1-based
	Fault      Fault         //
	Target     Target        // the target drawn (empty for faults without one: CutClient, MoveLeader)
	Members    []string      // the members hit (for CutClient, the link: "link 2")
	Hold       time.Duration // drawn; how long the fault was to last
	Start, End time.Time     // injected; healed (End is zero if the heal never ran)
	Err        error         // the injection or heal failed
}

// What is the fault and whom it hit: "kill node2 (raft leader)".
func (s Step) What() string {
	w := string(s.Fault)
	if len(s.Members) > 0 {
		w += " " + strings.Join(s.Members, ",")
	}
	if s.Target != "" {
		w += " (" + string(s.Target) + ")"
	}
	return w
}

// String is the step as a line of a timeline.
func (s Step) String() string {
	w := fmt.Sprintf("#%d %s", s.N, s.What())
	if s.Hold > 0 {
		w += fmt.Sprintf(" for %v", s.Hold)
	}
	if s.Err != nil {
		w += fmt.Sprintf(": FAILED: %v", s.Err)
	}
	return w
}

// Timeline is what Run did, in order.
type Timeline struct {
	Seed       int64
	Duration   time.Duration
	Start, End time.Time
	Steps      []Step

	opts Options // what Run was given, for Replay
}

// Replay is the Options literal that replays this schedule, for a failure
// message: every option that changes the steps drawn, as Go, e.g.
// chaos.Options{Seed: 42, Duration: 20 * time.Second, Faults: []chaos.Fault{chaos.Kill}}.
// Links are named by their number only: pass the same links, in the same
// order.
func (t Timeline) Replay() string {
	parts := []string{fmt.Sprintf("Seed: %d", t.Seed), "Duration: " + goDuration(t.Duration)}
	if o := t.opts; o.Faults != nil {
		names := make([]string, len(o.Faults))
		for i, f := range o.Faults {
			names[i] = faultConst(f)
		}
		parts = append(parts, "Faults: []chaos.Fault{"+strings.Join(names, ", ")+"}")
	}
	if o := t.opts; o.Targets != nil {
		names := make([]string, len(o.Targets))
		for i, tg := range o.Targets {
			names[i] = targetConst(tg)
		}
		parts = append(parts, "Targets: []chaos.Target{"+strings.Join(names, ", ")+"}")
	}
	if t.opts.MinHold > 0 {
		parts = append(parts, "MinHold: "+goDuration(t.opts.MinHold))
	}
	if t.opts.MaxHold > 0 {
		parts = append(parts, "MaxHold: "+goDuration(t.opts.MaxHold))
	}
	if n := len(t.opts.Links); n > 0 {
		parts = append(parts, fmt.Sprintf("Links: /* the same %d client links, in order */", n))
	}
	return "chaos.Options{" + strings.Join(parts, ", ") + "}"
}

// goDuration writes d as a Go expression: 20 * time.Second.
func goDuration(d time.Duration) string {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{time.Hour, "time.Hour"}, {time.Minute, "time.Minute"}, {time.Second, "time.Second"}, {time.Millisecond, "time.Millisecond"}, {time.Microsecond, "time.Microsecond"}} {
		if d != 0 && d%u.d == 0 {
			if d == u.d {
				return u.name
			}
			return fmt.Sprintf("%d * %s", d/u.d, u.name)
		}
	}
	return fmt.Sprintf("time.Duration(%d)", int64(d))
}

var faultConsts = map[Fault]string{Kill: "Kill", Pause: "Pause", Restart: "Restart", Isolate: "Isolate", Partition: "Partition",
	OneWay: "OneWay", Latency: "Latency", Loss: "Loss", CutClient: "CutClient", MoveLeader: "MoveLeader", Failpoint: "Failpoint"}

func faultConst(f Fault) string {
	if n, ok := faultConsts[f]; ok {
		return "chaos." + n
	}
	return fmt.Sprintf("chaos.Fault(%q)", string(f))
}

var targetConsts = map[Target]string{Random: "Random", RaftLeader: "RaftLeader", Minority: "Minority", Majority: "Majority"}

func targetConst(t Target) string {
	if n, ok := targetConsts[t]; ok {
		return "chaos." + n
	}
	return fmt.Sprintf("chaos.Target(%q)", string(t))
}

// String lists the steps with times relative to Start.
func (t Timeline) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "chaos: seed %d, %d steps in %v (replay: %s)\n", t.Seed, len(t.Steps), t.End.Sub(t.Start).Round(time.Millisecond), t.Replay())
	for _, s := range t.Steps {
		end := "not healed"
		if !s.End.IsZero() {
			end = fmt.Sprintf("healed +%.3fs", s.End.Sub(t.Start).Seconds())
		}
		fmt.Fprintf(&b, "  +%.3fs  %s; %s\n", s.Start.Sub(t.Start).Seconds(), s, end)
	}
	return b.String()
}

// Run injects seeded random faults into c for opts.Duration, one at a time,
// and returns what it did:
//
//	tl, err := chaos.Run(ctx, cluster, chaos.Options{Seed: 42, Duration: 20 * time.Second})
//
// It always heals before returning — lifts partitions, latency and loss,
// restores links, resumes paused members, restarts killed ones — also when
// ctx is cancelled (the heal then gets a minute of its own). The error names
// the failing step and the seed that replays the run. Against an external
// cluster it returns an error wrapping etcdtest.ErrExternal.
func Run(ctx context.Context, c *etcdtest.Cluster, opts Options) (Timeline, error) {
	p, err := newPlanner(c, opts)
	tl := Timeline{Seed: opts.Seed, Duration: p.duration, Start: time.Now(), opts: opts}
	if err != nil {
		tl.End = tl.Start
		return tl, err
	}
	deadline := tl.Start.Add(p.duration)
	var runErr error
	for n := 1; time.Now().Before(deadline) && ctx.Err() == nil; n++ {
		s := p.next(n)
		s.Start = time.Now()
		if opts.Log != nil {
			fmt.Fprintf(opts.Log, "chaos: +%.3fs %s\n", s.Start.Sub(tl.Start).Seconds(), s)
		}
		heal, err := p.inject(ctx, &s)
		if err == nil {
			hold := min(s.Hold, time.Until(deadline))
			select {
			case <-time.After(max(hold, 0)): // the fault lasts this long: a duration under test, not a wait for state
			case <-ctx.Done():
			}
			err = heal(context.WithoutCancel(ctx))
		}
		s.End = time.Now()
		s.Err = err
		tl.Steps = append(tl.Steps, s)
		if opts.Recording != nil {
			opts.Recording.Note(s)
		}
		if opts.History != nil {
			opts.History.Note(s)
		}
		if err != nil {
			runErr = fmt.Errorf("chaos: step %s: %w (replay: %s)", s, err, tl.Replay())
			break
		}
		if opts.Check != nil && ctx.Err() == nil {
			if err := opts.Check(ctx); err != nil {
				runErr = fmt.Errorf("chaos: check after step %s: %w (replay: %s)", s, err, tl.Replay())
				break
			}
		}
	}
	if err := p.healAll(context.WithoutCancel(ctx)); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("chaos: healing at the end: %w (replay: %s)", err, tl.Replay()))
	}
	tl.End = time.Now()
	return tl, runErr
}

// healTimeout bounds the final heal, which runs even after ctx ended.
const healTimeout = time.Minute

// planner draws steps and carries them out on one cluster.
type planner struct {
	c        *etcdtest.Cluster
	rng      *rand.Rand
	opts     Options
	duration time.Duration
	faults   []Fault
	targets  []Target
	members  int   // members at the start; targets are drawn among them
	pending  draws // the current step's draws, from next to inject
}

func newPlanner(c *etcdtest.Cluster, opts Options) (*planner, error) {
	if c == nil {
		p, err := newSchedule(opts, 0, true)
		if err == nil {
			err = errors.New("chaos: Run needs a cluster: pass the *etcdtest.Cluster to break")
		}
		return p, err
	}
	if c.External() {
		p, err := newSchedule(opts, 0, true)
		if err == nil {
			err = fmt.Errorf("chaos: Run: %w", etcdtest.ErrExternal)
		}
		return p, err
	}
	p, err := newSchedule(opts, len(c.Members()), c.HasFailpoints())
	p.c = c
	if err == nil && p.members < 2 {
		err = fmt.Errorf("chaos: Run needs a cluster of 2 members or more, this one has %d: start it with Config.Size 3", p.members)
	}
	return p, err
}

// newSchedule is the planner without a cluster: what it draws is a pure
// function of opts (the seed, the faults and targets, the holds, the number
// of links), the number of members and whether they have failpoints, which
// a test can check on its own.
func newSchedule(opts Options, members int, failpoints bool) (*planner, error) {
	p := &planner{opts: opts, duration: opts.Duration, members: members}
	seed := uint64(opts.Seed)
	p.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	if p.duration <= 0 {
		p.duration = 10 * time.Second
	}
	if p.opts.MinHold <= 0 {
		p.opts.MinHold = 100 * time.Millisecond
	}
	if p.opts.MaxHold <= 0 {
		p.opts.MaxHold = 1500 * time.Millisecond
	}
	if p.opts.MaxHold < p.opts.MinHold {
		return p, fmt.Errorf("chaos: Options.MaxHold %v is below MinHold %v: make MaxHold at least MinHold", p.opts.MaxHold, p.opts.MinHold)
	}
	p.faults = opts.Faults
	if p.faults == nil {
		p.faults = allFaults
	}
	if len(opts.Links) == 0 {
		p.faults = slices.DeleteFunc(slices.Clone(p.faults), func(f Fault) bool { return f == CutClient })
	}
	if !failpoints {
		if slices.Contains(opts.Faults, Failpoint) {
			return p, errors.New("chaos: Options.Faults has chaos.Failpoint, but the cluster's etcd has no failpoints: start it with etcdtest.Config{Failpoints: true}")
		}
		p.faults = slices.DeleteFunc(slices.Clone(p.faults), func(f Fault) bool { return f == Failpoint })
	}
	p.targets = opts.Targets
	if p.targets == nil {
		p.targets = allTargets
	}
	if len(p.faults) == 0 || len(p.targets) == 0 {
		return p, errors.New("chaos: no faults or no targets to choose from: leave Options.Faults and Targets nil for all of them (CutClient also needs Options.Links)")
	}
	for _, f := range p.faults {
		if !slices.Contains(allFaults, f) {
			return p, fmt.Errorf("chaos: unknown fault %q in Options.Faults: use the chaos.Fault constants", f)
		}
	}
	for _, t := range p.targets {
		if !slices.Contains(allTargets, t) {
			return p, fmt.Errorf("chaos: unknown target %q in Options.Targets: use the chaos.Target constants", t)
		}
	}
	return p, nil
}

// draws is the picks a step makes, all drawn whatever the step needs, so
// the generator advances the same way for every step.
type draws struct {
	fault  Fault
	target Target
	hold   time.Duration
	perm   []int   // a random order of member indexes
	link   int     // which link CutClient cuts
	amount float64 // in [0,1): latency or loss within its range
}

func (p *planner) draw() draws {
	d := draws{
		fault:  p.faults[p.rng.IntN(len(p.faults))],
		target: p.targets[p.rng.IntN(len(p.targets))],
		perm:   p.rng.Perm(p.members),
		link:   p.rng.IntN(max(len(p.opts.Links), 1)),
		amount: p.rng.Float64(),
	}
	span := int64(p.opts.MaxHold - p.opts.MinHold)
	d.hold = p.opts.MinHold + time.Duration(p.rng.Int64N(span+1)).Round(time.Millisecond)
	return d
}

// next is step n, with its members not yet resolved.
func (p *planner) next(n int) Step {
	d := p.draw()
	s := Step{N: n, Fault: d.fault, Target: d.target, Hold: d.hold}
	if d.fault == CutClient || d.fault == MoveLeader {
		s.Target = ""
	}
	p.pending = d
	return s
}
