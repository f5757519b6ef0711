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
// with a linearizable read through the key's client. A read that fails is no
// match, and the failure message says so; so to assert that a key exists,
// prefer Should(HaveValue(Anything())) to ShouldNot(BeMissing()), which a
// failed read would pass.
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
	return r.err == nil && !r.found, nil
}

func (m *beMissingMatcher) FailureMessage(actual any) string {
	m.mu.Lock()
	r := m.last
	m.mu.Unlock()
	if r.err != nil {
		return fmt.Sprintf("Expected key %s not to exist, but reading it failed (no match on this poll; Eventually reads it again):\n    %v", r.key, r.err)
	}
	return fmt.Sprintf("Expected key %s not to exist, but it has the value\n%s", r.key, formatValue(r.value))
}

func (m *beMissingMatcher) NegatedFailureMessage(actual any) string {
	m.mu.Lock()
	r := m.last
	m.mu.Unlock()
	return fmt.Sprintf("Expected key %s to exist, but it does not", r.key)
}

// MatchMayChangeInTheFuture is false for a key whose client is closed (its
// cluster was stopped), and for an actual that is not a key.
func (m *beMissingMatcher) MatchMayChangeInTheFuture(actual any) bool {
	k, ok := asKey(actual)
	return ok && keyMayChange(k)
}
