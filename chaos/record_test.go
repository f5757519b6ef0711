package chaos_test

import (
	"context"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
)

// fake is an elector whose belief the spec sets.
type fake struct {
	id      string
	elected atomic.Bool
	token   atomic.Int64
}

func (f *fake) ID() string    { return f.id }
func (f *fake) Elected() bool { return f.elected.Load() }

// fenced is a fake with a fencing token.
type fenced struct{ fake }

func (f *fenced) FencingToken() (int64, bool) {
	if !f.elected.Load() {
		return 0, false
	}
	return f.token.Load(), true
}

func (f *fenced) elect(token int64) { f.token.Store(token); f.elected.Store(true) }

// selecting is a fake that reports its elections.
type selecting struct {
	fake
	mu     sync.Mutex
	fn     func(context.Context, string)
	cancel context.CancelFunc
}

func (s *selecting) OnSelect(fn func(context.Context, string)) { s.mu.Lock(); s.fn = fn; s.mu.Unlock() }
func (s *selecting) select_(value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ctx context.Context
	ctx, s.cancel = context.WithCancel(context.Background())
	s.elected.Store(true)
	s.fn(ctx, value)
}
func (s *selecting) deselect() { s.elected.Store(false); s.cancel() }

// sampled waits until rec has read every elector at least twice more: what
// the spec set is then in the recording.
func sampled(rec *chaos.Recording) {
	GinkgoHelper()
	n := rec.Samples()
	Eventually(rec.Samples).WithTimeout(time.Second).WithPolling(100 * time.Microsecond).Should(BeNumerically(">=", n+2))
}

var _ = Describe("Record", func() {
	It("reports an overlap with both IDs and its times", func() {
		a, b, c := &fake{id: "a"}, &fake{id: "b"}, &fake{id: "c"}
		rec := chaos.Record(a, b, c)
		a.elected.Store(true)
		sampled(rec)
		b.elected.Store(true)
		sampled(rec)
		b.elected.Store(false)
		sampled(rec)
		rep := rec.Stop()
		Expect(rep.Overlaps).To(HaveLen(1))
		ov := rep.Overlaps[0]
		Expect(ov.IDs).To(Equal([]string{"a", "b"}))
		Expect(ov.From).To(BeTemporally(">", rep.Start))
		Expect(ov.To).To(BeTemporally(">", ov.From))
		Expect(rep.Safe()).To(BeFalse())
		Expect(rep.Lanes[0]).To(HaveLen(1))
		Expect(rep.Lanes[1]).To(HaveLen(1))
		Expect(rep.Lanes[2]).To(BeEmpty())
		Expect(rep.String()).To(MatchRegexp(`\+\d+\.\d{3}s  OVERLAP: a, b all believed they were elected, for \S+ \(until \+\d+\.\d{3}s\)`))
		Expect(rep.Samples).To(BeNumerically(">=", 6))
	})

	It("is safe when beliefs hand over without overlapping", func() {
		a, b := &fake{id: "a"}, &fake{id: "b"}
		rec := chaos.Record(a, b)
		a.elected.Store(true)
		sampled(rec)
		a.elected.Store(false)
		sampled(rec)
		b.elected.Store(true)
		sampled(rec)
		rep := rec.Stop()
		Expect(rep.Safe()).To(BeTrue(), rep.String())
		Expect(rep.Elections()).To(Equal(2))
		Expect(rep.Gaps).To(HaveLen(1))
		Expect(rep.Lanes[1][0].To).To(Equal(rep.End), "an interval open at Stop ends at Stop")
		Expect(rec.Stop()).To(Equal(rep), "Stop again returns the same report")
	})

	It("reports a fencing token that did not grow across leaders, and counts a lapse apart", func() {
		a, b := &fenced{fake{id: "a"}}, &fenced{fake{id: "b"}}
		rec := chaos.Record(a, b)
		a.elect(10)
		sampled(rec)
		a.elected.Store(false)
		sampled(rec)
		a.elect(10) // the same election regained: a lapse, no regression
		sampled(rec)
		a.elected.Store(false)
		sampled(rec)
		b.elect(7)
		sampled(rec)
		rep := rec.Stop()
		Expect(rep.Lapses).To(Equal(1))
		Expect(rep.Regressions).To(HaveLen(1))
		g := rep.Regressions[0]
		Expect([]any{g.ID, g.Token, g.PrevID, g.PrevToken}).To(Equal([]any{"b", int64(7), "a", int64(10)}))
		Expect(rep.String()).To(ContainSubstring("TOKEN REGRESSION: b elected with token 7, not above a's 10"))
		Expect(rep.Lanes[0][0].Token).To(Equal(int64(10)))
	})

	It("fails leaderless gaps over MaxGap only when a bound is set", func() {
		a := &fake{id: "a"}
		rec := chaos.RecordWith(chaos.RecordOptions{MaxGap: time.Millisecond, Interval: 200 * time.Microsecond}, a)
		a.elected.Store(true)
		sampled(rec)
		a.elected.Store(false)
		sampled(rec)                     // a sample saw the gap begin before the sleep starts, however loaded the machine
		time.Sleep(5 * time.Millisecond) // a leaderless gap this long is the subject of the spec
		a.elected.Store(true)
		sampled(rec)
		rep := rec.Stop()
		Expect(rep.LongGaps()).To(HaveLen(1))
		Expect(rep.LongestGap()).To(BeNumerically(">=", 4*time.Millisecond), "5 ms asleep between a sample that saw no leader and one that saw a (a sample's clock is read a moment before the elector)")
		Expect(rep.Safe()).To(BeFalse())
		Expect(rep.String()).To(MatchRegexp(`LEADERLESS for \d+ms \(over 1ms\)`))
		Expect(rep.Interval).To(Equal(200 * time.Microsecond))
	})

	It("lists the select and deselect events of electors that report them", func() {
		s := &selecting{fake: fake{id: "s"}}
		rec := chaos.Record(s)
		s.select_("v1")
		sampled(rec)
		s.deselect()
		Eventually(rec.Events).WithTimeout(time.Second).Should(HaveLen(2)) // the deselect is seen in a goroutine of its own
		rep := rec.Stop()
		Expect(rep.Events).To(HaveLen(2))
		Expect(rep.Events[0].Selected).To(BeTrue())
		Expect(rep.Events[0].Value).To(Equal("v1"))
		Expect(rep.Events[1].Selected).To(BeFalse())
	})

	It("records a condition next to the electors: when it did not hold, and for how long", func() {
		a := &fake{id: "a"}
		var registered atomic.Bool
		registered.Store(true)
		rec := chaos.RecordWith(chaos.RecordOptions{Conditions: []chaos.Condition{
			{Name: "registered", Holds: registered.Load, MaxFalse: time.Hour},
		}}, a)
		a.elected.Store(true)
		sampled(rec)
		registered.Store(false)
		sampled(rec)
		registered.Store(true)
		sampled(rec)
		rep := rec.Stop()
		Expect(rep.Electors).To(Equal([]string{"a"}), "a condition is no elector")
		Expect(rep.Conditions).To(HaveLen(1))
		c := rep.Conditions[0]
		Expect(c.Name).To(Equal("registered"))
		Expect(c.False).To(HaveLen(1))
		Expect(c.False[0].From).To(BeTemporally(">", rep.Start))
		Expect(c.False[0].To).To(BeTemporally(">", c.False[0].From))
		Expect(c.False[0].To).To(BeTemporally("<", rep.End))
		Expect(rep.Safe()).To(BeTrue(), "within its bound of an hour")
		Expect(rep.String()).To(MatchRegexp(`\+\d+\.\d{3}s  registered holds again, after \S+`))
	})

	It("fails a condition false for longer than its bound, also with no electors", func() {
		var fresh atomic.Bool
		rec := chaos.RecordWith(chaos.RecordOptions{Interval: 200 * time.Microsecond, Conditions: []chaos.Condition{
			{Name: "cache agrees", Holds: fresh.Load, MaxFalse: time.Millisecond},
		}})
		sampled(rec)                     // seen false from the start
		time.Sleep(3 * time.Millisecond) // a condition false this long is the subject of the spec
		fresh.Store(true)
		sampled(rec)
		rep := rec.Stop()
		Expect(rep.Electors).To(BeEmpty())
		Expect(rep.Conditions[0].Violations()).To(HaveLen(1))
		Expect(rep.Conditions[0].False).To(HaveLen(1), "one span, open from the first sample")
		Expect(rep.Safe()).To(BeFalse())
		Expect(rep.String()).To(MatchRegexp(`NOT HELD: cache agrees false for \S+ \(over 1ms\)`))
		Expect(rep.Summary()).To(HavePrefix("1 condition, "))
	})

	It("refuses a condition without a name or Holds, or with a name taken, saying what to do", func() {
		ok := func() bool { return true }
		with := func(cs ...chaos.Condition) func() {
			return func() { chaos.RecordWith(chaos.RecordOptions{Conditions: cs}, &fake{id: "x"}) }
		}
		Expect(with(chaos.Condition{Holds: ok})).To(PanicWith(ContainSubstring("condition 0 has no Name")))
		Expect(with(chaos.Condition{Name: "c"})).To(PanicWith(ContainSubstring(`condition "c" has no Holds`)))
		Expect(with(chaos.Condition{Name: "x", Holds: ok})).To(PanicWith(ContainSubstring(`the name "x" is taken twice among electors and conditions`)))
		Expect(with(chaos.Condition{Name: "c", Holds: ok, MaxFalse: -1})).To(PanicWith(ContainSubstring("negative MaxFalse")))
	})

	It("refuses duplicate IDs and no electors, saying what to do", func() {
		Expect(func() { chaos.Record(&fake{id: "x"}, &fake{id: "x"}) }).To(PanicWith(ContainSubstring(`two electors with ID "x": give each a unique ID`)))
		Expect(func() { chaos.Record() }).To(PanicWith(ContainSubstring("no electors")))
	})

	It("draws a self-contained SVG with a lane per elector, faults shaded and overlaps in red", func() {
		a, b := &fenced{fake{id: "alpha"}}, &fenced{fake{id: "beta"}}
		rec := chaos.Record(a, b)
		a.elect(3)
		sampled(rec)
		b.elect(4)
		sampled(rec)
		rec.Note(chaos.Step{N: 1, Fault: chaos.Pause, Target: chaos.Random, Members: []string{"node2"}, Start: time.Now(), End: time.Now().Add(time.Millisecond)})
		rep := rec.Stop()
		svg := rep.SVG()
		d := xml.NewDecoder(strings.NewReader(svg))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			Expect(err).NotTo(HaveOccurred(), "the SVG is well-formed XML")
		}
		Expect(svg).To(HavePrefix(`<svg xmlns="http://www.w3.org/2000/svg"`))
		Expect(svg).NotTo(ContainSubstring("href"), "no external assets")
		Expect(svg).To(ContainSubstring(">alpha</text>"))
		Expect(svg).To(ContainSubstring(">beta</text>"))
		Expect(svg).To(ContainSubstring(`fill="#d32f2f"`))
		Expect(svg).To(ContainSubstring("pause node2 (random)"))

		dir := GinkgoT().TempDir()
		path, err := rep.SaveSVG(dir)
		Expect(err).NotTo(HaveOccurred())
		Expect(filepath.Dir(path)).To(Equal(dir))
		Expect(os.ReadFile(path)).To(Equal([]byte(svg)))
	})
})
