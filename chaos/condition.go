package chaos

// A condition is any invariant that is not an election: "the service is
// registered", "the cache agrees with etcd". A Recording samples it on the
// same tick as its electors and keeps only when it stopped and started to
// hold, so the report can say when it was false, for how long, and whether
// that was longer than the condition allows. The bookkeeping is a pure type
// (conditionTrack) fed with sampled instants, so the verdict is tested on
// tables without a clock.

import (
	"fmt"
	"time"
)

// Condition is a boolean condition over time that a Recording samples next
// to its electors (RecordOptions.Conditions):
//
//	registered := chaos.Condition{Name: "registered", Holds: reg.Registered, MaxFalse: 2 * time.Second}
//	rec := chaos.RecordWith(chaos.RecordOptions{Conditions: []chaos.Condition{registered}}, nodes...)
//
// The report lists every span in which it did not hold; matchers.BeSafe
// fails when one lasted longer than MaxFalse. The spans are judged from the
// start of the recording: start recording once the condition holds.
type Condition struct {
	// Name names the condition's lane in the report; unique among the
	// recording's electors and conditions.
	Name string
	// Holds says whether the condition holds right now. Like an elector's
	// Elected, it must be cheap and safe to call from another goroutine: it
	// is called every RecordOptions.Interval (half a millisecond). Keep the
	// state it reads up to date elsewhere (a watch, a callback), never by
	// calling etcd from Holds.
	Holds func() bool
	// MaxFalse is the longest the condition may be false at a time and still
	// be safe. 0 means it must never be seen false: an invariant in the
	// strict sense. (Unlike RecordOptions.MaxGap, where 0 means "not
	// judged": a condition is recorded to be judged.)
	MaxFalse time.Duration
}

// ConditionReport is what a Recording saw of one Condition.
type ConditionReport struct {
	Name     string
	MaxFalse time.Duration
	// False holds the spans in which the condition did not hold, as sampled:
	// From is the first sample that saw it false, To the first that saw it
	// hold again (the end of the recording if none did).
	False []Interval
	// Truncated says that False hit its cap (100000 spans); later changes
	// were dropped.
	Truncated bool
}

// Violations are the spans in which the condition was false for longer than
// MaxFalse.
func (c ConditionReport) Violations() []Interval {
	var over []Interval
	for _, f := range c.False {
		if f.Duration() > c.MaxFalse {
			over = append(over, f)
		}
	}
	return over
}

// Held reports whether the condition was never false for longer than
// MaxFalse.
func (c ConditionReport) Held() bool { return len(c.Violations()) == 0 }

// LongestFalse is the longest span in which the condition did not hold.
func (c ConditionReport) LongestFalse() time.Duration {
	var d time.Duration
	for _, f := range c.False {
		d = max(d, f.Duration())
	}
	return d
}

// TotalFalse is how long, in all, the condition did not hold.
func (c ConditionReport) TotalFalse() time.Duration {
	var d time.Duration
	for _, f := range c.False {
		d += f.Duration()
	}
	return d
}

// Summary is the condition in a few words: "registered: false 2 times, 1.2s
// in all, longest 1s (bound 2s)".
func (c ConditionReport) Summary() string {
	if len(c.False) == 0 {
		return c.Name + ": always held"
	}
	s := fmt.Sprintf("%s: false %s, %v in all, longest %v (bound %v)", c.Name, times(len(c.False)),
		short(c.TotalFalse()), short(c.LongestFalse()), c.MaxFalse)
	if n := len(c.Violations()); n > 0 {
		s += fmt.Sprintf(", %d over it", n)
	}
	if c.Truncated {
		s += " (truncated)"
	}
	return s
}

// short rounds d for a message: to the millisecond from a second on
// ("3.136s"), else to 100 µs ("1.2ms").
func short(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Microsecond)
}

func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

// conditionTrack turns one condition's samples into its report: it is fed
// every sample in time order (see, then end at Stop) and knows nothing of
// clocks or goroutines.
type conditionTrack struct {
	rep     ConditionReport
	sampled bool // a sample was seen
	holding bool // what the last sample saw
}

func newConditionTrack(c Condition) conditionTrack {
	return conditionTrack{rep: ConditionReport{Name: c.Name, MaxFalse: c.MaxFalse}}
}

// see records that the condition held (or not) at the sample taken at now.
func (t *conditionTrack) see(holds bool, now time.Time) {
	first := !t.sampled
	t.sampled = true
	if !first && holds == t.holding {
		return
	}
	t.holding = holds
	switch {
	case !holds && len(t.rep.False) >= maxChanges:
		t.rep.Truncated = true
	case !holds:
		t.rep.False = append(t.rep.False, Interval{From: now})
	case !first:
		t.closeFalse(now)
	}
}

func (t *conditionTrack) closeFalse(now time.Time) {
	if n := len(t.rep.False); n > 0 && t.rep.False[n-1].To.IsZero() {
		t.rep.False[n-1].To = now
	}
}

// end closes a false span still open when the recording stops, and returns
// the report.
func (t *conditionTrack) end(now time.Time) ConditionReport {
	if t.sampled && !t.holding {
		t.closeFalse(now)
	}
	return t.rep
}
