package matchers

import (
	"fmt"
	"sync"

	"github.com/onsi/gomega/types"
)

// BeMissing succeeds when the key does not exist in etcd:
//
//	Eventually(cluster.Key("/services/scheduler/a")).Should(matchers.BeMissing())
//
// The actual must be an etcdtest.Key (or *etcdtest.Key), read on every poll
// with a linearizable read through the key's client, bounded by
// QueryTimeout. Only etcd's answer "no such key" is a match. A read that
// fails is an error, not a mismatch: while the member the key is read
// through is paused, both Expect(key).To(matchers.BeMissing()) and
// Consistently(key).ShouldNot(matchers.BeMissing()) fail with the read error
// ("matchers.BeMissing: cannot read /lock via node2: ..."), and Eventually
// reads again on its next poll.
func BeMissing() types.GomegaMatcher {
	return &beMissingMatcher{}
}

type beMissingMatcher struct {
	mu   sync.Mutex
	last keyRead
}

func (m *beMissingMatcher) Match(actual any) (bool, error) {
	k, ok := asKey(actual)
	if !ok {
		return false, fmt.Errorf("BeMissing matcher expects an etcdtest.Key. Got:\n%s", formatActual(actual))
	}
	r := readKey(k)
	m.mu.Lock()
	m.last = r
	m.mu.Unlock()
	if r.err != nil {
		return false, cannotRead("BeMissing", r.key, r.err)
	}
	return !r.found, nil
}

func (m *beMissingMatcher) FailureMessage(actual any) string {
	m.mu.Lock()
	r := m.last
	m.mu.Unlock()
	if r.err != nil { // Match returned the error; Gomega shows that instead
		return cannotRead("BeMissing", r.key, r.err).Error()
	}
	return fmt.Sprintf("Expected key %s not to exist, but it has the value\n%s", r.key, formatValue(r.value))
}

func (m *beMissingMatcher) NegatedFailureMessage(actual any) string {
	m.mu.Lock()
	r := m.last
	m.mu.Unlock()
	if r.err != nil {
		return cannotRead("BeMissing", r.key, r.err).Error()
	}
	return fmt.Sprintf("Expected key %s to exist, but it does not", r.key)
}

// MatchMayChangeInTheFuture is false for a key whose client is closed (its
// cluster was stopped) or that has none, and for an actual that is not a
// key: Eventually gives up at once on them. A key read through a paused or
// killed member may be read again, so Eventually polls on.
func (m *beMissingMatcher) MatchMayChangeInTheFuture(actual any) bool {
	k, ok := asKey(actual)
	return ok && keyMayChange(k)
}
