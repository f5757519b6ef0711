package matchers

import (
	"fmt"
	"sync"

	"github.com/onsi/gomega/types"
)

// HaveValue succeeds when the value matches expected, a value or a Gomega
// matcher:
//
//	Eventually(cluster.Member(1).Key("/test")).Should(matchers.HaveValue("hello world"))
//	Eventually(follower).Should(matchers.HaveValue(HavePrefix("10.0.0.")))
//
// The actual is either
//   - an etcdtest.Key (or *etcdtest.Key): its current value, read on every
//     poll with a linearizable read through the key's client, bounded by
//     QueryTimeout. A key that does not exist is no match, and the failure
//     message says so (see BeMissing for a key that must not exist). A read
//     that fails — the member it goes through is paused, killed or cut off,
//     the quorum is lost — is an error, not a mismatch:
//     Expect(key).NotTo(matchers.HaveValue("old")) and
//     Consistently(key).ShouldNot(matchers.HaveValue("old")) fail while etcd
//     does not answer, with the read error ("matchers.HaveValue: cannot read
//     /test via node2: ..."), and Eventually reads again on its next poll; or
//   - a *locker.Node: the elected value as the node sees it
//     (locker.Node.Leader), its own belief with no request to etcd, so Match
//     cannot fail to read. A node that sees no leader has no value to match;
//   - any other Observer: the Value of the leader its Leader method returns,
//     no value when it returns false.
//
// Gomega has a HaveValue of its own: import this package qualified.
func HaveValue(expected any) types.GomegaMatcher {
	return &haveValueMatcher{expected: expect(expected)}
}

type haveValueMatcher struct {
	expected expectation

	mu sync.Mutex
	// what the last Match saw: a node's view, or a key's read
	isNode bool
	node   nodeView
	key    keyRead
}

func (m *haveValueMatcher) Match(actual any) (bool, error) {
	if k, ok := asKey(actual); ok {
		r := readKey(k)
		m.mu.Lock()
		defer m.mu.Unlock()
		m.isNode, m.key = false, r
		if r.err != nil {
			return false, cannotRead("HaveValue", r.key, r.err)
		}
		if !r.found {
			return false, nil
		}
		return m.expected.matcher.Match(r.value)
	}
	o, err := asObserver("HaveValue", actual)
	if err != nil {
		return false, fmt.Errorf("HaveValue matcher expects an etcdtest.Key, a *locker.Node or another matchers.Observer (ID() string, Leader() (locker.Leader, bool)). Got:\n%s", formatActual(actual))
	}
	v := viewObserver(o)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.isNode, m.node = true, v
	if !v.hasLeader {
		return false, nil
	}
	return m.expected.matcher.Match(v.leader.Value)
}

func (m *haveValueMatcher) FailureMessage(actual any) string {
	return m.message(actual, false)
}

func (m *haveValueMatcher) NegatedFailureMessage(actual any) string {
	return m.message(actual, true)
}

func (m *haveValueMatcher) message(actual any, negated bool) string {
	m.mu.Lock()
	if !m.isNode {
		defer m.mu.Unlock()
		r := m.key
		switch {
		case r.err != nil: // Match returned the error; Gomega shows that instead
			return cannotRead("HaveValue", r.key, r.err).Error()
		case !r.found:
			return fmt.Sprintf("Expected key %s to have a value matching\n%s\nbut the key does not exist", r.key, m.expected)
		case negated:
			return fmt.Sprintf("The value of key %s:\n%s", r.key, m.expected.matcher.NegatedFailureMessage(r.value))
		default:
			return fmt.Sprintf("The value of key %s:\n%s", r.key, m.expected.matcher.FailureMessage(r.value))
		}
	}
	v := lastObservedOrNow(m.node, actual)
	var head string
	switch {
	case !v.hasLeader:
		head = fmt.Sprintf("Expected %s to see an elected value matching\n%s\nbut it sees no leader", v.name(), m.expected)
	case negated:
		head = fmt.Sprintf("The elected value as %s sees it:\n%s", v.name(), m.expected.matcher.NegatedFailureMessage(v.leader.Value))
	default:
		head = fmt.Sprintf("The elected value as %s sees it:\n%s", v.name(), m.expected.matcher.FailureMessage(v.leader.Value))
	}
	m.mu.Unlock()
	return head + "\n" + v.describe()
}

// MatchMayChangeInTheFuture is false for a closed node, a key whose client
// is closed (its cluster was stopped) or that has none, and an actual of
// another type: Eventually gives up at once on them. A key read through a
// paused or killed member may be read again, so Eventually polls on.
func (m *haveValueMatcher) MatchMayChangeInTheFuture(actual any) bool {
	if k, ok := asKey(actual); ok {
		return keyMayChange(k)
	}
	return nodeMayChange(actual)
}
