package chaos

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"
)

// t0 is a fixed instant; ms(n) is n milliseconds after it.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func ms(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Millisecond))) }

type sample struct {
	at    float64 // ms after t0
	holds bool
}

func TestConditionTrackSpansAndVerdict(t *testing.T) {
	for _, tc := range []struct {
		name     string
		maxFalse time.Duration
		samples  []sample
		end      float64
		want     []Interval // false spans
		held     bool
	}{
		{name: "always held", samples: []sample{{0, true}, {1, true}, {2, true}}, end: 3, held: true},
		{name: "false once, strict bound: fails", samples: []sample{{0, true}, {1, false}, {1.5, true}}, end: 3,
			want: []Interval{{From: ms(1), To: ms(1.5)}}, held: false},
		{name: "false exactly the bound: holds (near miss)", maxFalse: 10 * time.Millisecond,
			samples: []sample{{0, true}, {5, false}, {15, true}}, end: 20,
			want: []Interval{{From: ms(5), To: ms(15)}}, held: true},
		{name: "false the bound and a microsecond: fails", maxFalse: 10 * time.Millisecond,
			samples: []sample{{0, true}, {5, false}, {15.001, true}}, end: 20,
			want: []Interval{{From: ms(5), To: ms(15.001)}}, held: false},
		{name: "false at the start counts from the start", maxFalse: 10 * time.Millisecond,
			samples: []sample{{0, false}, {11, true}}, end: 20,
			want: []Interval{{From: ms(0), To: ms(11)}}, held: false},
		{name: "false at the end is open until Stop", maxFalse: 10 * time.Millisecond,
			samples: []sample{{0, true}, {5, false}, {6, false}}, end: 16,
			want: []Interval{{From: ms(5), To: ms(16)}}, held: false},
		{name: "false at the end, within the bound", maxFalse: 10 * time.Millisecond,
			samples: []sample{{0, true}, {5, false}}, end: 14,
			want: []Interval{{From: ms(5), To: ms(14)}}, held: true},
		{name: "never held at all", maxFalse: time.Second, samples: []sample{{0, false}, {500, false}}, end: 1001,
			want: []Interval{{From: ms(0), To: ms(1001)}}, held: false},
		{name: "two short spans, each within the bound, however long in all", maxFalse: 10 * time.Millisecond,
			samples: []sample{{0, true}, {1, false}, {9, true}, {20, false}, {28, true}}, end: 30,
			want: []Interval{{From: ms(1), To: ms(9)}, {From: ms(20), To: ms(28)}}, held: true},
		{name: "no sample at all: nothing false", maxFalse: 0, end: 5, held: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newConditionTrack(Condition{Name: "c", MaxFalse: tc.maxFalse})
			for _, s := range tc.samples {
				tr.see(s.holds, ms(s.at))
			}
			rep := tr.end(ms(tc.end))
			if !equalIntervals(rep.False, tc.want) {
				t.Errorf("false spans: got %v, want %v", rep.False, tc.want)
			}
			if rep.Held() != tc.held {
				t.Errorf("Held: got %v, want %v (violations %v)", rep.Held(), tc.held, rep.Violations())
			}
			r := Report{Start: t0, End: ms(tc.end), Conditions: []ConditionReport{rep}}
			if r.Safe() != tc.held {
				t.Errorf("Report.Safe: got %v, want %v", r.Safe(), tc.held)
			}
		})
	}
}

func equalIntervals(a, b []Interval) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].From.Equal(b[i].From) || !a[i].To.Equal(b[i].To) {
			return false
		}
	}
	return true
}

func TestConditionTrackCapsItsSpans(t *testing.T) {
	tr := newConditionTrack(Condition{Name: "flaps", MaxFalse: time.Hour})
	for i := range 2*maxChanges + 10 {
		tr.see(i%2 == 1, ms(float64(i)))
	}
	rep := tr.end(ms(3 * maxChanges))
	if len(rep.False) != maxChanges || !rep.Truncated {
		t.Fatalf("got %d spans, truncated %v; want %d and true", len(rep.False), rep.Truncated, maxChanges)
	}
	if !strings.HasSuffix(rep.Summary(), "(truncated)") {
		t.Errorf("summary does not say it was truncated: %s", rep.Summary())
	}
}

func TestReportNamesConditionsInItsTimeline(t *testing.T) {
	r := Report{
		Start: ms(0), End: ms(1000), Interval: 500 * time.Microsecond, Samples: 2000,
		Conditions: []ConditionReport{
			{Name: "registered", MaxFalse: 100 * time.Millisecond, False: []Interval{{From: ms(100), To: ms(150)}, {From: ms(400), To: ms(900)}}},
			{Name: "cache agrees", MaxFalse: 0},
		},
	}
	want := `2 conditions, 1s, 2000 samples (every 500µs); registered: false 2 times, 550ms in all, longest 500ms (bound 100ms), 1 over it; cache agrees: always held
  +0.100s  registered no longer holds
  +0.150s  registered holds again, after 50ms
  +0.400s  NOT HELD: registered false for 500ms (over 100ms), until +0.900s
  +0.900s  registered holds again, after 500ms
`
	if got := r.String(); got != want {
		t.Errorf("String:\n%s\nwant:\n%s", got, want)
	}
	if r.Safe() || len(r.Violated()) != 1 || r.Violated()[0].Name != "registered" {
		t.Errorf("Safe %v, Violated %v: want unsafe, registered", r.Safe(), r.Violated())
	}
	r.Conditions[0].MaxFalse = 500 * time.Millisecond // the longest span exactly: a near miss
	if !r.Safe() {
		t.Errorf("a span exactly MaxFalse long is safe: %s", r.Summary())
	}

	// Next to electors, the election's summary comes first, as before.
	r.Electors, r.Lanes = []string{"a"}, [][]Interval{{{From: ms(10), To: ms(1000)}}}
	if got := r.Summary(); !strings.HasPrefix(got, "1 electors, 1s, 2000 samples (every 500µs): 0 overlaps") || !strings.Contains(got, "; registered: false 2 times") {
		t.Errorf("summary with electors and conditions: %s", got)
	}
}

func TestSVGDrawsConditionLanes(t *testing.T) {
	r := Report{
		Electors: []string{"a"}, Start: ms(0), End: ms(1000), Lanes: [][]Interval{{{From: ms(0), To: ms(1000)}}},
		Conditions: []ConditionReport{{Name: "registered", MaxFalse: 100 * time.Millisecond,
			False: []Interval{{From: ms(100), To: ms(150)}, {From: ms(400), To: ms(900)}}}},
	}
	svg := r.SVG()
	for _, want := range []string{
		`font-style="italic">registered</text>`,
		`fill="#fb8c00"><title>registered false +0.100s to +0.150s (50ms; bound 100ms)</title>`,
		`fill="#d32f2f"><title>registered NOT HELD: false +0.400s to +0.900s (500ms; bound 100ms)</title>`,
		`>condition false</text>`,
		`fill="#333">registered: false 2 times, 550ms in all, longest 500ms (bound 100ms), 1 over it</text>`, // its own summary line
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("%q not in the SVG:\n%s", want, svg)
		}
	}
	// The condition's lane is the second: below the elector's.
	if i, j := strings.Index(svg, ">a</text>"), strings.Index(svg, ">registered</text>"); i < 0 || j < i {
		t.Errorf("the condition's lane is not below the elector's")
	}
	if strings.Contains(svg, ">two or more elected at once<") == false {
		t.Errorf("the elector's legend is gone")
	}
	only := Report{Start: ms(0), End: ms(10), Conditions: r.Conditions}
	if s := only.SVG(); strings.Contains(s, ">elected</text>") || !strings.Contains(s, ">condition holds</text>") {
		t.Errorf("a picture without electors shows the conditions' legend only")
	}
}

func TestWithinPassesOnceTheAssertionsDo(t *testing.T) {
	tries := 0
	check := Within(time.Second, func(g gomega.Gomega) {
		tries++
		g.Expect(tries).To(gomega.BeNumerically(">=", 3), "the third try passes")
	})
	if err := check(context.Background()); err != nil {
		t.Fatalf("want nil, got %v", err)
	}
	if tries != 3 {
		t.Errorf("tried %d times, want 3: it stops at the first pass", tries)
	}
}

func TestWithinFailsWithTheLastAssertion(t *testing.T) {
	check := Within(30*time.Millisecond, func(g gomega.Gomega) {
		g.Expect([]string{"n1", "n2"}).To(gomega.HaveLen(1), "exactly one elected")
	})
	err := check(context.Background())
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"Timed out after ", "condition_internal_test.go:", "exactly one elected", "to have length 1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q not in %q", want, err)
		}
	}
}

func TestWithinEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Within(time.Hour, func(g gomega.Gomega) { g.Expect(false).To(gomega.BeTrue()) })(ctx)
	if err == nil || !strings.Contains(err.Error(), "Context was cancelled") {
		t.Fatalf("a cancelled context: want an error at once, got %v", err)
	}
}

func TestWithinRefusesBadArguments(t *testing.T) {
	for _, tc := range []struct {
		name string
		call func()
		want string
	}{
		{"no assertion", func() { Within(time.Second, nil) }, "no assertion"},
		{"no time", func() { Within(0, func(gomega.Gomega) {}) }, "timeout 0s: give the assertions a positive time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if e := recover(); e == nil || !strings.Contains(e.(string), tc.want) {
					t.Errorf("panic %v, want one containing %q", e, tc.want)
				}
			}()
			tc.call()
		})
	}
}

func TestRunCheckHealsBeforeAPanicGoesOn(t *testing.T) {
	healed := false
	heal := func(context.Context) error { healed = true; return nil }
	func() {
		defer func() {
			if e := recover(); e != "global Expect failed" {
				t.Errorf("the panic goes on unchanged: got %v", e)
			}
		}()
		_ = runCheck(context.Background(), func(context.Context) error { panic("global Expect failed") }, heal)
	}()
	if !healed {
		t.Error("a check that panicked left the cluster unhealed")
	}

	healed = false
	want := errors.New("not elected")
	if err := runCheck(context.Background(), func(context.Context) error { return want }, heal); err != want || healed {
		t.Errorf("an error: got %v (healed %v), want it returned and Run to heal as usual", err, healed)
	}
}

func TestConditionSummaryRoundsForReading(t *testing.T) {
	for _, tc := range []struct {
		false time.Duration
		want  string
	}{
		{3135600 * time.Microsecond, "c: false once, 3.136s in all, longest 3.136s (bound 1s), 1 over it"},
		{1234567 * time.Nanosecond, "c: false once, 1.2ms in all, longest 1.2ms (bound 1s)"},
		{time.Second, "c: false once, 1s in all, longest 1s (bound 1s)"}, // exactly the bound: not over it
	} {
		c := ConditionReport{Name: "c", MaxFalse: time.Second, False: []Interval{{From: t0, To: t0.Add(tc.false)}}}
		if got := c.Summary(); got != tc.want {
			t.Errorf("false for %v: got %q, want %q", tc.false, got, tc.want)
		}
	}
	if got := (ConditionReport{Name: "c"}).Summary(); got != "c: always held" {
		t.Errorf("never false: got %q", got)
	}
}
