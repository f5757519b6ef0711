package matchers

import (
	"fmt"
	"sync"

	"github.com/onsi/gomega/types"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
)

// BeElected succeeds when the node believes it holds the lock right now
// (locker.Node.Elected):
//
//	Eventually(node).Should(matchers.BeElected())
//	Consistently(follower).ShouldNot(matchers.BeElected())
//
// The actual is a *locker.Node, or any other chaos.Elector (an adapter for
// your own election code), read through its Elected. A closed node is never
// elected again, so Eventually gives up at once on one.
func BeElected() types.GomegaMatcher {
	return &beElectedMatcher{}
}

type beElectedMatcher struct {
	mu   sync.Mutex
	last nodeView
}

func (m *beElectedMatcher) Match(actual any) (bool, error) {
	e, err := asElector("BeElected", actual)
	if err != nil {
		return false, err
	}
	v := viewElector(e)
	m.mu.Lock()
	m.last = v
	m.mu.Unlock()
	return v.elected, nil
}

func (m *beElectedMatcher) FailureMessage(actual any) string {
	v := m.view(actual)
	why := "it is not"
	if v.closed {
		why = "it is closed"
	}
	return fmt.Sprintf("Expected %s to be elected, but %s.\n%s", v.name(), why, v.describe())
}

func (m *beElectedMatcher) NegatedFailureMessage(actual any) string {
	v := m.view(actual)
	return fmt.Sprintf("Expected %s not to be elected, but it is.\n%s", v.name(), v.describe())
}

// MatchMayChangeInTheFuture is false for a closed node, and for an actual
// that is not a node at all.
func (m *beElectedMatcher) MatchMayChangeInTheFuture(actual any) bool {
	return nodeMayChange(actual)
}

// view is what the last Match saw, or the node's view now if Match was not
// called with this actual.
func (m *beElectedMatcher) view(actual any) nodeView {
	m.mu.Lock()
	defer m.mu.Unlock()
	return lastOrNow(m.last, actual)
}

func lastOrNow(last nodeView, actual any) nodeView {
	if e, ok := actual.(chaos.Elector); ok && !isNil(actual) && last.elector != e {
		return viewElector(e)
	}
	return last
}

func nodeMayChange(actual any) bool {
	if n, ok := actual.(*locker.Node); ok {
		return n != nil && !n.Closed()
	}
	_, elector := actual.(chaos.Elector)
	_, observer := actual.(Observer)
	return (elector || observer) && !isNil(actual)
}
