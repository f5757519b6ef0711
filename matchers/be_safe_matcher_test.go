package matchers_test

import (
	"os"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

// at is a fixed instant plus ms milliseconds: reports built by hand.
func at(ms float64) time.Time {
	return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(ms * float64(time.Millisecond)))
}

var _ = Describe("BeSafe", func() {
	var safe, unsafe chaos.Report
	BeforeEach(func() {
		GinkgoT().Setenv(chaos.EnvArtifacts, GinkgoT().TempDir())
		safe = chaos.Report{
			Electors: []string{"a", "b"}, Start: at(0), End: at(1000), Interval: 500 * time.Microsecond, Samples: 2000,
			Lanes: [][]chaos.Interval{{{From: at(10), To: at(400), Token: 5}}, {{From: at(420), To: at(1000), Token: 9}}},
			Gaps:  []chaos.Interval{{From: at(400), To: at(420)}},
		}
		unsafe = safe
		unsafe.Lanes = [][]chaos.Interval{{{From: at(10), To: at(430), Token: 5}}, {{From: at(420), To: at(1000), Token: 4}}}
		unsafe.Gaps = nil
		unsafe.Overlaps = []chaos.Overlap{{From: at(420), To: at(430), IDs: []string{"a", "b"}}}
		unsafe.Regressions = []chaos.Regression{{At: at(420), ID: "b", Token: 4, PrevID: "a", PrevToken: 5}}
	})

	It("passes a report without overlaps, regressions or long gaps", func() {
		Expect(safe).To(matchers.BeSafe())
		Expect(&safe).To(matchers.BeSafe())
	})

	It("fails an overlap and a token regression with the timeline and the picture's path", func() {
		m := matchers.BeSafe()
		ok, err := m.Match(unsafe)
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeFalse())
		msg := m.FailureMessage(unsafe)
		Expect(msg).To(MatchText(`Expected a safe election, but found 1 instant at which two or more electors believed they were elected, and 1 election whose fencing token did not grow.
2 electors, 1s, 2000 samples (every 500µs): 1 overlap, 1 token regression, 2 elections, 0 lapses, longest leaderless gap 0s
  +0.010s  a elected (token 5)
  +0.420s  b elected (token 4)
  +0.420s  OVERLAP: a, b all believed they were elected, for 10ms (until +0.430s)
  +0.420s  TOKEN REGRESSION: b elected with token 4, not above a's 5
  +0.430s  a no longer elected, after 420ms
Picture: <ANY>.svg
`))
		path := strings.TrimSuffix(msg[strings.LastIndex(msg, "Picture: ")+len("Picture: "):], "\n")
		svg, err := os.ReadFile(path)
		Expect(err).NotTo(HaveOccurred(), "the picture is written where the message says")
		Expect(string(svg)).To(ContainSubstring("OVERLAP: a, b elected at once"))
	})

	It("fails a leaderless gap over the recording's MaxGap", func() {
		safe.MaxGap = 10 * time.Millisecond
		Expect(matchers.BeSafe().Match(safe)).To(BeFalse())
		Expect(matchers.BeSafe().FailureMessage(safe)).To(HavePrefix("Expected a safe election, but found 1 leaderless gap longer than 10ms.\n"))
	})

	It("fails a condition false for longer than its bound, naming it and how long", func() {
		safe.Conditions = []chaos.ConditionReport{{Name: "registered", MaxFalse: 100 * time.Millisecond,
			False: []chaos.Interval{{From: at(100), To: at(200)}, {From: at(300), To: at(700)}}}}
		Expect(matchers.BeSafe().Match(safe)).To(BeFalse())
		Expect(matchers.BeSafe().FailureMessage(safe)).To(HavePrefix(`Expected a safe election with every condition held, but found "registered" false 1 time for longer than 100ms (longest 400ms).
2 electors, 1s, 2000 samples (every 500µs): 0 overlaps, 0 token regressions, 2 elections, 0 lapses, longest leaderless gap 20ms; registered: false 2 times, 500ms in all, longest 400ms (bound 100ms), 1 over it
`))
		safe.Conditions[0].False[1].To = at(400) // 100 ms: exactly the bound, a near miss
		Expect(safe).To(matchers.BeSafe())

		only := chaos.Report{Start: at(0), End: at(1000), Conditions: []chaos.ConditionReport{{Name: "cache agrees", False: []chaos.Interval{{From: at(5), To: at(6)}}}}}
		Expect(matchers.BeSafe().FailureMessage(only)).To(HavePrefix(`Expected every condition to hold, but found "cache agrees" false 1 time for longer than 0s (longest 1ms).`))
		Expect(matchers.BeSafe().NegatedFailureMessage(chaos.Report{Conditions: []chaos.ConditionReport{{Name: "c"}}})).To(HavePrefix("Expected an unsafe recording, but it was safe."))
	})

	It("says when a safe report was expected to be unsafe", func() {
		Expect(matchers.BeSafe().NegatedFailureMessage(safe)).To(MatchText(`Expected an unsafe election, but it was safe.
2 electors, 1s, 2000 samples (every 500µs): 0 overlaps, 0 token regressions, 2 elections, 0 lapses, longest leaderless gap 20ms
  +0.010s  a elected (token 5)
  +0.400s  a no longer elected, after 390ms
  +0.420s  b elected (token 9)
`))
	})

	It("refuses a recording that still records, and anything else, saying what it expects", func() {
		rec := chaos.Record(&stubElector{id: "x"})
		_, err := matchers.BeSafe().Match(rec)
		Expect(err).To(MatchError("BeSafe matcher got a *chaos.Recording that is still recording: call its Stop first, e.g. Expect(rec.Stop()).To(matchers.BeSafe())"))
		rec.Stop()
		Expect(rec).To(matchers.BeSafe())
		_, err = matchers.BeSafe().Match("report")
		Expect(err).To(MatchError("BeSafe matcher expects a chaos.Report or a stopped *chaos.Recording. Got:\n    <string>: report"))
		Expect(matchers.BeSafe().(interface{ MatchMayChangeInTheFuture(any) bool }).MatchMayChangeInTheFuture(safe)).To(BeFalse())
	})
})

// stubElector is never elected.
type stubElector struct{ id string }

func (s *stubElector) ID() string    { return s.id }
func (s *stubElector) Elected() bool { return false }

// flagElector is an elector of another library: only ID and Elected.
type flagElector struct {
	id      string
	elected bool
}

func (f *flagElector) ID() string    { return f.id }
func (f *flagElector) Elected() bool { return f.elected }

var _ = Describe("Node matchers on any chaos.Elector", func() {
	It("BeElected reads Elected and names the elector", func() {
		e := &flagElector{id: "mine"}
		m := matchers.BeElected()
		Expect(m.Match(e)).To(BeFalse())
		Expect(m.FailureMessage(e)).To(Equal("Expected elector \"mine\" to be elected, but it is not.\nelector \"mine\" sees:\n    elected: no\n"))
		e.elected = true
		Expect(e).To(matchers.BeElected())
	})

	It("HaveExactlyOneElected takes a slice of any elector type", func() {
		es := []*flagElector{{id: "x", elected: true}, {id: "y", elected: true}}
		m := matchers.HaveExactlyOneElected()
		Expect(m.Match(es)).To(BeFalse())
		Expect(m.FailureMessage(es)).To(Equal("Expected exactly one of 2 nodes to be elected, but 2 are: \"x\", \"y\".\nelector \"x\": ELECTED\nelector \"y\": ELECTED\n"))
		es[1].elected = false
		Expect(es).To(matchers.HaveExactlyOneElected())
		Expect([]chaos.Elector{es[0], es[1]}).To(matchers.HaveExactlyOneElected())
	})
})
