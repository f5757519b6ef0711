package matchers_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

// seer is an observer of another library that is not an elector: it only
// says whom it sees elected (a watcher, a client of the election).
type seer struct {
	id     string
	leader locker.Leader
	ok     bool
}

func (s *seer) ID() string                    { return s.id }
func (s *seer) Leader() (locker.Leader, bool) { return s.leader, s.ok }

// leaderElector is an elector of another library that also says whom it
// sees elected: what an adapter around concurrency.Election can offer.
type leaderElector struct {
	flagElector
	seer
}

func (l *leaderElector) ID() string { return l.flagElector.id }

var _ = Describe("HaveLeader and HaveValue on any matchers.Observer", func() {
	It("HaveLeader reads Leader and names the observer", func() {
		o := &seer{id: "watcher", leader: locker.Leader{ID: "a", Value: "va", Revision: 7}, ok: true}
		m := matchers.HaveLeader("b")
		Expect(m.Match(o)).To(BeFalse())
		Expect(m.FailureMessage(o)).To(Equal("The leader's ID as elector \"watcher\" sees it (\"\" for none):\n" +
			"Expected\n    <string>: a\nto equal\n    <string>: b\n" +
			"elector \"watcher\" sees:\n    leader:  \"a\" with value \"va\", fencing token 7\n"))
		Expect(o).To(matchers.HaveLeader("a"))
		o.ok = false
		Expect(o).To(matchers.HaveLeader(""))
		Expect(m.(types.OracleMatcher).MatchMayChangeInTheFuture(o)).To(BeTrue())
	})

	It("HaveValue reads the leader's value, and says when the observer sees none", func() {
		e := &leaderElector{flagElector: flagElector{id: "mine", elected: true}, seer: seer{leader: locker.Leader{ID: "mine", Value: "10.0.0.7"}, ok: true}}
		Expect(e).To(matchers.HaveValue(HavePrefix("10.0.0.")))
		m := matchers.HaveValue("10.0.0.8")
		Expect(m.Match(e)).To(BeFalse())
		Expect(m.FailureMessage(e)).To(Equal("The elected value as elector \"mine\" sees it:\n" +
			"Expected\n    <string>: 10.0.0.7\nto equal\n    <string>: 10.0.0.8\n" +
			"elector \"mine\" sees:\n    elected: yes\n    leader:  \"mine\" with value \"10.0.0.7\", fencing token 0\n"))

		e.elected, e.ok = false, false
		Expect(m.Match(e)).To(BeFalse())
		Expect(m.FailureMessage(e)).To(Equal("Expected elector \"mine\" to see an elected value matching\n    <string>: 10.0.0.8\nbut it sees no leader\n" +
			"elector \"mine\" sees:\n    elected: no\n    leader:  none\n"))
		Expect(e).NotTo(matchers.HaveValue("10.0.0.8"))
	})

	It("BeElected on an elector that is also an observer shows the leader it sees", func() {
		e := &leaderElector{flagElector: flagElector{id: "mine"}, seer: seer{leader: locker.Leader{ID: "other", Value: "v", Revision: 3}, ok: true}}
		m := matchers.BeElected()
		Expect(m.Match(e)).To(BeFalse())
		Expect(m.FailureMessage(e)).To(Equal("Expected elector \"mine\" to be elected, but it is not.\nelector \"mine\" sees:\n    elected: no\n    leader:  \"other\" with value \"v\", fencing token 3\n"))
	})
})
