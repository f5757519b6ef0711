package matchers

import (
	"fmt"
	"strings"
	"time"

	"github.com/onsi/gomega/types"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
)

// BeSafe succeeds when a recorded election was safe: no two electors ever
// believed they were elected at once, no fencing token failed to grow
// across leaders, no leaderless gap exceeded the recording's MaxGap
// (when one was set), and no condition (chaos.RecordOptions.Conditions) was
// false for longer than its MaxFalse:
//
//	rec := chaos.Record(a, b, c)
//	// ... faults ...
//	Expect(rec.Stop()).To(matchers.BeSafe())
//
// The actual is a chaos.Report, or a *chaos.Recording after its Stop (a
// recording still running is an error: stop it first, so the verdict covers
// a known span). The failure message gives what went wrong, the report's text
// timeline, and the path of its picture (an SVG written by
// chaos.Report.SaveSVG: $CHAOS_ARTIFACTS, else the working directory). A
// report never changes, so Eventually does not poll it.
func BeSafe() types.GomegaMatcher {
	return &beSafeMatcher{}
}

type beSafeMatcher struct{}

func asReport(actual any) (chaos.Report, error) {
	switch a := actual.(type) {
	case chaos.Report:
		return a, nil
	case *chaos.Report:
		if a != nil {
			return *a, nil
		}
	case *chaos.Recording:
		if a != nil {
			if !a.Stopped() {
				return chaos.Report{}, fmt.Errorf("BeSafe matcher got a *chaos.Recording that is still recording: call its Stop first, e.g. Expect(rec.Stop()).To(matchers.BeSafe())")
			}
			return a.Stop(), nil
		}
	}
	return chaos.Report{}, fmt.Errorf("BeSafe matcher expects a chaos.Report or a stopped *chaos.Recording. Got:\n%s", formatActual(actual))
}

func (m *beSafeMatcher) Match(actual any) (bool, error) {
	r, err := asReport(actual)
	if err != nil {
		return false, err
	}
	return r.Safe(), nil
}

func (m *beSafeMatcher) FailureMessage(actual any) string {
	r, _ := asReport(actual)
	var what []string
	if n := len(r.Overlaps); n > 0 {
		what = append(what, fmt.Sprintf("%d %s at which two or more electors believed they were elected", n, plural(n, "instant", "instants")))
	}
	if n := len(r.Regressions); n > 0 {
		what = append(what, fmt.Sprintf("%d %s whose fencing token did not grow", n, plural(n, "election", "elections")))
	}
	if n := len(r.LongGaps()); n > 0 {
		what = append(what, fmt.Sprintf("%d leaderless %s longer than %v", n, plural(n, "gap", "gaps"), r.MaxGap))
	}
	for _, c := range r.Violated() {
		n := len(c.Violations())
		what = append(what, fmt.Sprintf("%q false %d %s for longer than %v (longest %v)", c.Name, n, plural(n, "time", "times"), c.MaxFalse, short(c.LongestFalse())))
	}
	return fmt.Sprintf("Expected %s, but found %s.\n%s%s", subject(r), strings.Join(what, ", and "), r, picture(r))
}

func (m *beSafeMatcher) NegatedFailureMessage(actual any) string {
	r, _ := asReport(actual)
	noun := "election"
	if len(r.Conditions) > 0 {
		noun = "recording"
	}
	return fmt.Sprintf("Expected an unsafe %s, but it was safe.\n%s", noun, r)
}

// short rounds d as chaos's own messages do: to the millisecond from a
// second on, else to 100 µs.
func short(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Microsecond)
}

// subject is what the report judges: an election, its conditions, or both.
func subject(r chaos.Report) string {
	switch {
	case len(r.Conditions) == 0:
		return "a safe election"
	case len(r.Electors) == 0:
		return "every condition to hold"
	}
	return "a safe election with every condition held"
}

// MatchMayChangeInTheFuture is false: a report is final.
func (m *beSafeMatcher) MatchMayChangeInTheFuture(any) bool { return false }

// picture writes the report's SVG and names its path, or says why not.
func picture(r chaos.Report) string {
	path, err := r.SaveSVG("")
	if err != nil {
		return fmt.Sprintf("Picture: not written: %v\n", err)
	}
	return fmt.Sprintf("Picture: %s\n", path)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
