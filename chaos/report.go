package chaos

// A Report is plain data — intervals with times — so a failure can be shown
// three ways from one source: the verdict (Safe), a text timeline for the
// failure message (String), and a picture (SVG).

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Report is what a Recording saw, from Record to Stop.
type Report struct {
	Electors     []string      // the electors' IDs, in the order given to Record
	Start, End   time.Time     // Record and Stop
	Interval     time.Duration // the sampling interval
	Samples      int64         // rounds in which every elector was read
	MaxGap       time.Duration // RecordOptions.MaxGap: 0 means gaps are not judged
	FirstElected time.Time     // the first sample in which some elector was elected; zero if none ever was

	// Lanes holds, per elector (same order as Electors), the intervals in
	// which it believed it was elected, as sampled. A change of fencing
	// token while elected starts a new interval.
	Lanes [][]Interval

	Overlaps    []Overlap    // instants at which two or more believed at once
	Regressions []Regression // new elections whose token did not exceed every earlier one
	Gaps        []Interval   // leaderless intervals after the first election
	Lapses      int          // the same election (elector and token) regained belief after losing it
	Events      []Event      // select and deselect events, from electors that report them (Selecting)
	Faults      []Step       // fault windows: Run's steps (Options.Recording) and Recording.Note
	Truncated   bool         // a list hit its cap (100000 entries); later changes were dropped

	// Conditions holds, per condition (RecordOptions.Conditions, in that
	// order), the spans in which it did not hold.
	Conditions []ConditionReport
}

// Interval is a span of time; To is the first sample that no longer saw it.
// Token is the fencing token of an elected interval (0 without one).
type Interval struct {
	From, To time.Time
	Token    int64
}

// Duration is To - From.
func (i Interval) Duration() time.Duration { return i.To.Sub(i.From) }

// Overlap is a span in which every elector in IDs believed it was elected.
// From is the first sample that saw them all; To the first that did not.
type Overlap struct {
	From, To time.Time
	IDs      []string
}

// Duration is To - From: how long, within one sampling interval, the
// overlap lasted.
func (o Overlap) Duration() time.Duration { return o.To.Sub(o.From) }

// Regression is a new election whose fencing token did not exceed the
// highest token of any earlier election: a storage fenced by tokens would
// accept the older leader's writes after the newer one's, or reject both.
type Regression struct {
	At        time.Time
	ID        string // the elector elected with Token
	Token     int64
	PrevID    string // who held PrevToken, the highest token before
	PrevToken int64
}

// Event is an elector's own select (Selected) or deselect report.
type Event struct {
	At       time.Time
	ID       string
	Selected bool
	Value    string
}

// Safe reports whether no two electors ever believed at once, no token went
// backwards, no leaderless gap exceeded MaxGap (when set), and no condition
// was false for longer than its MaxFalse.
func (r Report) Safe() bool {
	return len(r.Overlaps) == 0 && len(r.Regressions) == 0 && len(r.LongGaps()) == 0 && len(r.Violated()) == 0
}

// Violated are the conditions that were false for longer than their
// MaxFalse.
func (r Report) Violated() []ConditionReport {
	var out []ConditionReport
	for _, c := range r.Conditions {
		if !c.Held() {
			out = append(out, c)
		}
	}
	return out
}

// LongGaps are the leaderless gaps longer than MaxGap; none when MaxGap is 0.
func (r Report) LongGaps() []Interval {
	if r.MaxGap <= 0 {
		return nil
	}
	var long []Interval
	for _, g := range r.Gaps {
		if g.Duration() > r.MaxGap {
			long = append(long, g)
		}
	}
	return long
}

// LongestGap is the longest leaderless gap after the first election.
func (r Report) LongestGap() time.Duration {
	var d time.Duration
	for _, g := range r.Gaps {
		d = max(d, g.Duration())
	}
	return d
}

// Elections counts the elected intervals of every elector.
func (r Report) Elections() int {
	n := 0
	for _, l := range r.Lanes {
		n += len(l)
	}
	return n
}

// Summary is the report in one line: the election's counts, then each
// condition's.
func (r Report) Summary() string {
	var s string
	if len(r.Electors) > 0 || len(r.Conditions) == 0 {
		s = fmt.Sprintf("%d electors, %v, %d samples (every %v): %s, %s, %d elections, %s, longest leaderless gap %v",
			len(r.Electors), r.End.Sub(r.Start).Round(time.Millisecond), r.Samples, r.Interval,
			plural(len(r.Overlaps), "overlap"), plural(len(r.Regressions), "token regression"),
			r.Elections(), plural(r.Lapses, "lapse"), r.LongestGap().Round(100*time.Microsecond))
		if r.MaxGap > 0 {
			s += fmt.Sprintf(" (%s over %v)", plural(len(r.LongGaps()), "gap"), r.MaxGap)
		}
	} else {
		s = fmt.Sprintf("%s, %v, %d samples (every %v)", plural(len(r.Conditions), "condition"),
			r.End.Sub(r.Start).Round(time.Millisecond), r.Samples, r.Interval)
	}
	for _, c := range r.Conditions {
		s += "; " + c.Summary()
	}
	if r.Truncated {
		s += " (truncated: a list hit its cap)"
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// maxLines bounds String: the problems are always shown, then the latest
// other lines up to the bound.
const maxLines = 60

type line struct {
	at      time.Time
	text    string
	problem bool
}

// String is the compact text timeline: the summary, then one line per
// election, loss of belief, fault, overlap, token regression, long gap, and
// condition that stopped or started to hold, at times relative to Start.
// Overlaps, regressions, long gaps and conditions false over their bound are
// in capitals.
// Past 60 lines it keeps every problem and the latest of the rest.
func (r Report) String() string {
	lines := r.lines()
	var b strings.Builder
	b.WriteString(r.Summary())
	b.WriteString("\n")
	if len(lines) > maxLines {
		problems := 0
		for _, l := range lines {
			if l.problem {
				problems++
			}
		}
		others := max(maxLines-problems, 0)
		var kept []line
		skipped := 0
		for i := len(lines) - 1; i >= 0; i-- {
			if lines[i].problem || others > 0 {
				if !lines[i].problem {
					others--
				}
				kept = append(kept, lines[i])
			} else {
				skipped++
			}
		}
		slices.Reverse(kept)
		fmt.Fprintf(&b, "  (%d earlier lines left out)\n", skipped)
		lines = kept
	}
	for _, l := range lines {
		fmt.Fprintf(&b, "  %s  %s\n", r.rel(l.at), l.text)
	}
	return b.String()
}

// rel is t as an offset from Start: "+1.234s".
func (r Report) rel(t time.Time) string {
	if t.IsZero() {
		return "the end"
	}
	return fmt.Sprintf("+%.3fs", t.Sub(r.Start).Seconds())
}

func (r Report) lines() []line {
	var ls []line
	for i, lane := range r.Lanes {
		id := r.Electors[i]
		for _, iv := range lane {
			tok := ""
			if iv.Token != 0 {
				tok = fmt.Sprintf(" (token %d)", iv.Token)
			}
			ls = append(ls, line{at: iv.From, text: fmt.Sprintf("%s elected%s", id, tok)})
			if !iv.To.IsZero() && iv.To.Before(r.End) {
				ls = append(ls, line{at: iv.To, text: fmt.Sprintf("%s no longer elected, after %v", id, iv.Duration().Round(100*time.Microsecond))})
			}
		}
	}
	for _, f := range r.Faults {
		ls = append(ls, line{at: f.Start, text: "fault: " + f.String()})
		if !f.End.IsZero() && !f.End.Equal(f.Start) {
			ls = append(ls, line{at: f.End, text: "healed: " + f.What()})
		}
	}
	for _, o := range r.Overlaps {
		ls = append(ls, line{at: o.From, problem: true,
			text: fmt.Sprintf("OVERLAP: %s all believed they were elected, for %v (until %s)", strings.Join(o.IDs, ", "), o.Duration().Round(10*time.Microsecond), r.rel(o.To))})
	}
	for _, g := range r.Regressions {
		ls = append(ls, line{at: g.At, problem: true,
			text: fmt.Sprintf("TOKEN REGRESSION: %s elected with token %d, not above %s's %d", g.ID, g.Token, g.PrevID, g.PrevToken)})
	}
	for _, g := range r.LongGaps() {
		ls = append(ls, line{at: g.From, problem: true,
			text: fmt.Sprintf("LEADERLESS for %v (over %v), until %s", g.Duration().Round(time.Millisecond), r.MaxGap, r.rel(g.To))})
	}
	ls = append(ls, r.conditionLines()...)
	slices.SortStableFunc(ls, func(a, b line) int { return a.at.Compare(b.at) })
	return ls
}

// conditionLines are the timeline's lines of the conditions: when each
// stopped holding (a problem when for longer than its bound) and when it
// held again.
func (r Report) conditionLines() []line {
	var ls []line
	for _, c := range r.Conditions {
		for _, f := range c.False {
			d := short(f.Duration())
			if f.Duration() > c.MaxFalse {
				ls = append(ls, line{at: f.From, problem: true,
					text: fmt.Sprintf("NOT HELD: %s false for %v (over %v), until %s", c.Name, d, c.MaxFalse, r.rel(f.To))})
			} else {
				ls = append(ls, line{at: f.From, text: c.Name + " no longer holds"})
			}
			if !f.To.IsZero() && f.To.Before(r.End) {
				ls = append(ls, line{at: f.To, text: fmt.Sprintf("%s holds again, after %v", c.Name, d)})
			}
		}
	}
	return ls
}
