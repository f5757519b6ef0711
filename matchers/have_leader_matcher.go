package matchers

import (
	"fmt"
	"sync"

	"github.com/onsi/gomega/types"
)

// HaveLeader succeeds when the node sees the elected node's ID match
// expected, a value or a Gomega matcher:
//
//	Eventually(follower).Should(matchers.HaveLeader("a"))
//	Eventually(follower).Should(matchers.HaveLeader(Not(Equal(oldLeader))))
//	Eventually(node).Should(matchers.HaveLeader("")) // no leader
//
// The actual is a *locker.Node or any other Observer. For a node, the ID is
// that of the first key under the path as the node sees it
// (locker.Node.Leader), "" when there is none (IDs are never empty). That
// leader may still be proving itself; use BeElected on it for the moment it
// acts. For another observer it is the ID its Leader method returns, "" when
// it returns false.
func HaveLeader(expected any) types.GomegaMatcher {
	return &haveLeaderMatcher{expected: expect(expected)}
}

type haveLeaderMatcher struct {
	expected expectation

	mu   sync.Mutex
	last nodeView
}

func (m *haveLeaderMatcher) Match(actual any) (bool, error) {
	o, err := asObserver("HaveLeader", actual)
	if err != nil {
		return false, err
	}
	v := viewObserver(o)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last = v
	return m.expected.matcher.Match(v.leader.ID)
}

func (m *haveLeaderMatcher) FailureMessage(actual any) string {
	return m.message(actual, false)
}

func (m *haveLeaderMatcher) NegatedFailureMessage(actual any) string {
	return m.message(actual, true)
}

func (m *haveLeaderMatcher) message(actual any, negated bool) string {
	m.mu.Lock()
	v := lastObservedOrNow(m.last, actual)
	var inner string
	if negated {
		inner = m.expected.matcher.NegatedFailureMessage(v.leader.ID)
	} else {
		inner = m.expected.matcher.FailureMessage(v.leader.ID)
	}
	m.mu.Unlock()
	return fmt.Sprintf("The leader's ID as %s sees it (\"\" for none):\n%s\n%s", v.name(), inner, v.describe())
}

// MatchMayChangeInTheFuture is false for a closed node, and for an actual
// that is not a node at all.
func (m *haveLeaderMatcher) MatchMayChangeInTheFuture(actual any) bool {
	return nodeMayChange(actual)
}
