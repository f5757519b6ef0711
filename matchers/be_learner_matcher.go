package matchers

import (
	"context"
	"fmt"
	"sync"

	"github.com/onsi/gomega/types"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// BeLearner succeeds when the member is a raft learner, as the member itself
// reports it (its status), not as the toolkit remembers it:
//
//	m, err := cluster.AddMember(ctx, etcdtest.AsLearner())
//	Expect(m).To(matchers.BeLearner())
//	Expect(cluster.PromoteMember(ctx, m)).To(Succeed())
//	Eventually(m).ShouldNot(matchers.BeLearner())
//
// The actual must be a *etcdtest.Member. Every poll asks the member, bounded
// by QueryTimeout; a member that does not answer (paused, killed, removed)
// is an error, not a mismatch: Expect and Consistently fail in both forms
// and Eventually polls again.
func BeLearner() types.GomegaMatcher { return &beLearnerMatcher{} }

type beLearnerMatcher struct {
	mu      sync.Mutex
	learner bool
}

func (m *beLearnerMatcher) Match(actual any) (bool, error) {
	member, ok := actual.(*etcdtest.Member)
	if !ok || member == nil {
		return false, fmt.Errorf("BeLearner matcher expects a *etcdtest.Member. Got:\n%s", formatActual(actual))
	}
	what := "whether " + member.Name() + " is a learner"
	if st := member.State(); st != etcdtest.Running && st != etcdtest.External {
		return false, cannotRead("BeLearner", what, fmt.Errorf("it is %s", st))
	}
	ctx, cancel := context.WithTimeout(context.Background(), QueryTimeout)
	defer cancel()
	st, err := member.Status(ctx)
	if err != nil {
		return false, cannotRead("BeLearner", what, err)
	}
	m.mu.Lock()
	m.learner = st.IsLearner
	m.mu.Unlock()
	return st.IsLearner, nil
}

func (m *beLearnerMatcher) FailureMessage(actual any) string {
	return fmt.Sprintf("Expected %s to be a raft learner, but it is a voting member", learnerSubject(actual))
}

func (m *beLearnerMatcher) NegatedFailureMessage(actual any) string {
	return fmt.Sprintf("Expected %s to be a voting member, but it is a raft learner", learnerSubject(actual))
}

func learnerSubject(actual any) string {
	if member, ok := actual.(*etcdtest.Member); ok && member != nil {
		return "member " + member.Name()
	}
	return fmt.Sprint(actual)
}
