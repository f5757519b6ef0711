package matchers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/onsi/gomega/types"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// HaveClusterVersion succeeds when the version etcd runs the cluster at — the
// lowest minor release among its members, which a rolling upgrade moves with
// its last member — matches expected: a version ("3.7.0", or "3.7" for any
// 3.7.x) or a Gomega matcher of the version string:
//
//	for _, m := range cluster.Members() {
//		Expect(m.RestartOn(ctx, "v3.7.3")).To(Succeed())
//	}
//	Eventually(cluster).Should(matchers.HaveClusterVersion("3.7"))
//
// The actual must be a *etcdtest.Cluster the toolkit booted. Every poll asks
// a running member (Cluster.ClusterVersion), bounded by QueryTimeout; when
// none can say, Match returns an error: Expect and Consistently fail in both
// forms and Eventually polls again.
func HaveClusterVersion(expected any) types.GomegaMatcher {
	if s, ok := expected.(string); ok && strings.Count(s, ".") == 1 {
		expected = s + ".0" // etcd's cluster version is always major.minor.0
	}
	return &haveClusterVersionMatcher{expected: expect(expected)}
}

type haveClusterVersionMatcher struct {
	expected expectation

	mu      sync.Mutex
	version string
}

func (m *haveClusterVersionMatcher) Match(actual any) (bool, error) {
	c, ok := actual.(*etcdtest.Cluster)
	if !ok || c == nil {
		return false, fmt.Errorf("HaveClusterVersion matcher expects a *etcdtest.Cluster. Got:\n%s", formatActual(actual))
	}
	what := "the cluster version of " + clusterName(c.Members())
	if c.Stopped() {
		return false, cannotRead("HaveClusterVersion", what, errors.New("the cluster is stopped"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), QueryTimeout)
	defer cancel()
	v, err := c.ClusterVersion(ctx)
	if err != nil {
		return false, cannotRead("HaveClusterVersion", what, err)
	}
	m.mu.Lock()
	m.version = v
	m.mu.Unlock()
	return m.expected.matcher.Match(v)
}

func (m *haveClusterVersionMatcher) FailureMessage(actual any) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return "The cluster version:\n" + m.expected.matcher.FailureMessage(m.version)
}

func (m *haveClusterVersionMatcher) NegatedFailureMessage(actual any) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return "The cluster version:\n" + m.expected.matcher.NegatedFailureMessage(m.version)
}

// MatchMayChangeInTheFuture is false for a stopped cluster and for an actual
// of another type.
func (m *haveClusterVersionMatcher) MatchMayChangeInTheFuture(actual any) bool {
	c, ok := actual.(*etcdtest.Cluster)
	return ok && c != nil && !c.Stopped()
}
