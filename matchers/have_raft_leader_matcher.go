package matchers

import (
	"context"
	"fmt"
	"sync"

	"github.com/onsi/gomega/types"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// HaveRaftLeader succeeds when the cluster's raft leader (Cluster.Leader)
// matches expected: a *etcdtest.Member, a member name, or a Gomega matcher
// of the leader's name:
//
//	Eventually(cluster).Should(matchers.HaveRaftLeader(Not(Equal(old.Name()))))
//	Expect(cluster).To(matchers.HaveRaftLeader(cluster.Member(0)))
//
// The actual must be a *etcdtest.Cluster. A cluster that reports no raft
// leader (no quorum, or every member down) is no match, and the failure
// message says why. A stopped cluster has no leader any more: Eventually
// gives up at once on it.
func HaveRaftLeader(expected any) types.GomegaMatcher {
	if m, ok := expected.(*etcdtest.Member); ok && m != nil {
		expected = m.Name()
	}
	return &haveRaftLeaderMatcher{expected: expect(expected)}
}

type haveRaftLeaderMatcher struct {
	expected expectation

	mu     sync.Mutex
	leader string // name of the raft leader the last Match found
	err    error  // or why it found none
}

func (m *haveRaftLeaderMatcher) Match(actual any) (bool, error) {
	c, ok := actual.(*etcdtest.Cluster)
	if !ok || c == nil {
		return false, fmt.Errorf("HaveRaftLeader matcher expects a *etcdtest.Cluster. Got:\n%s", formatActual(actual))
	}
	var leader string
	var err error
	if c.Stopped() {
		err = fmt.Errorf("the cluster is stopped")
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), QueryTimeout)
		var l *etcdtest.Member
		l, err = c.Leader(ctx)
		cancel()
		if err == nil {
			leader = l.Name()
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.leader, m.err = leader, err
	if err != nil {
		return false, nil
	}
	return m.expected.matcher.Match(leader)
}

func (m *haveRaftLeaderMatcher) FailureMessage(actual any) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return fmt.Sprintf("Expected the cluster's raft leader to match\n%s\nbut it has none: %v", m.expected, m.err)
	}
	return "The cluster's raft leader:\n" + m.expected.matcher.FailureMessage(m.leader)
}

func (m *haveRaftLeaderMatcher) NegatedFailureMessage(actual any) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return "The cluster's raft leader:\n" + m.expected.matcher.NegatedFailureMessage(m.leader)
}

// MatchMayChangeInTheFuture is false for a stopped cluster and for an actual
// of another type.
func (m *haveRaftLeaderMatcher) MatchMayChangeInTheFuture(actual any) bool {
	c, ok := actual.(*etcdtest.Cluster)
	return ok && c != nil && !c.Stopped()
}
