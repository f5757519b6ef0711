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

// HaveRaftLeader succeeds when the cluster's raft leader matches expected: a
// *etcdtest.Member, a member name, or a Gomega matcher of the leader's name:
//
//	Eventually(cluster).Should(matchers.HaveRaftLeader(Not(Equal(old.Name()))))
//	Expect(cluster).To(matchers.HaveRaftLeader(cluster.Member(0)))
//
// The actual must be a *etcdtest.Cluster. Every poll asks each running
// member for its status, in parallel, each request bounded by QueryTimeout;
// the leader is the live member named in the highest term, as
// Cluster.Leader has it. A paused, killed or stopped member is not asked.
//
// "No leader" is an answer only when members say so: if every running
// member answers and none names a live leader (the quorum is lost, an
// election is under way), there is no leader, which is no match, and the
// failure message lists what each member said — so
// Expect(cluster).NotTo(matchers.HaveRaftLeader(old)) passes, truthfully,
// while the members report that nobody leads. When nobody can say — no
// member runs, or a running member does not answer and none of the others
// names a leader — the leader cannot be read, and Match returns an error
// ("matchers.HaveRaftLeader: cannot read the raft leader of etcd cluster
// (node1, node2, node3): ..."): Expect and Consistently fail in both forms
// and Eventually polls again. A stopped cluster has no leader any more:
// Eventually gives up at once on it.
func HaveRaftLeader(expected any) types.GomegaMatcher {
	if m, ok := expected.(*etcdtest.Member); ok && m != nil {
		expected = m.Name()
	}
	return &haveRaftLeaderMatcher{expected: expect(expected)}
}

type haveRaftLeaderMatcher struct {
	expected expectation

	mu      sync.Mutex
	leader  string       // name of the raft leader the last Match found; "" for none
	answers []raftAnswer // what each member said
}

func (m *haveRaftLeaderMatcher) Match(actual any) (bool, error) {
	c, ok := actual.(*etcdtest.Cluster)
	if !ok || c == nil {
		return false, fmt.Errorf("HaveRaftLeader matcher expects a *etcdtest.Cluster. Got:\n%s", formatActual(actual))
	}
	members := c.Members()
	what := "the raft leader of " + clusterName(members)
	if c.Stopped() {
		return false, cannotRead("HaveRaftLeader", what, errors.New("the cluster is stopped"))
	}
	answers := askRaftLeader(c, members)
	leader, err := decideRaftLeader(answers)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.leader, m.answers = leader, answers
	if err != nil {
		return false, cannotRead("HaveRaftLeader", what, err)
	}
	if leader == "" {
		return false, nil
	}
	return m.expected.matcher.Match(leader)
}

func (m *haveRaftLeaderMatcher) FailureMessage(actual any) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.leader == "" {
		return fmt.Sprintf("Expected the cluster's raft leader to match\n%s\nbut there is none: %s", m.expected, sayings(m.answers))
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

// raftAnswer is what one member said about the raft leader, or why it said
// nothing.
type raftAnswer struct {
	member      string
	state       etcdtest.State // its process state; only a running one is asked
	err         error          // it was asked and did not answer
	leader      string         // the leader it names; "" for none, a hex ID for a stranger
	stranger    bool           // the leader it names is not a member of this cluster
	leaderState etcdtest.State // that leader's process state, unless a stranger
	term        uint64
}

func (a raftAnswer) asked() bool { return serving(a.state) }

// serving says whether a member in this state is asked: its process runs.
func serving(state etcdtest.State) bool {
	return state == etcdtest.Running || state == etcdtest.External
}

// alive says whether a member in this state can be the leader: a paused
// leader is still the leader until the others elect another.
func alive(state etcdtest.State) bool { return serving(state) || state == etcdtest.Paused }

func (a raftAnswer) String() string {
	switch {
	case !a.asked():
		return fmt.Sprintf("%s is %s", a.member, a.state)
	case a.err != nil:
		return fmt.Sprintf("%s did not answer: %s", a.member, explain(a.err))
	case a.leader == "":
		return fmt.Sprintf("%s sees no leader", a.member)
	case a.stranger:
		return fmt.Sprintf("%s names %s, not a member of this cluster", a.member, a.leader)
	case !alive(a.leaderState):
		return fmt.Sprintf("%s still follows %s, which is %s", a.member, a.leader, a.leaderState)
	}
	return fmt.Sprintf("%s names %s (term %d)", a.member, a.leader, a.term)
}

func sayings(answers []raftAnswer) string {
	s := make([]string, len(answers))
	for i, a := range answers {
		s[i] = a.String()
	}
	return strings.Join(s, "; ")
}

// askRaftLeader asks every running member of c, in parallel, which raft leader it
// follows.
func askRaftLeader(c *etcdtest.Cluster, members []*etcdtest.Member) []raftAnswer {
	answers := make([]raftAnswer, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		answers[i] = raftAnswer{member: m.Name(), state: m.State()}
		if !answers[i].asked() {
			continue
		}
		wg.Add(1)
		go func(a *raftAnswer) {
			defer wg.Done()
			cli := m.Client()
			if cli == nil {
				a.err = errors.New("it has no client")
				return
			}
			ctx, cancel := context.WithTimeout(cli.Ctx(), QueryTimeout)
			defer cancel()
			st, err := m.Status(ctx)
			if err != nil {
				a.err = err
				return
			}
			a.term = st.RaftTerm
			switch l := c.MemberByID(st.Leader); {
			case st.Leader == 0:
			case l != nil:
				a.leader, a.leaderState = l.Name(), l.State()
			default:
				a.leader, a.stranger = fmt.Sprintf("%x", st.Leader), true
			}
		}(&answers[i])
	}
	wg.Wait()
	return answers
}

// decideRaftLeader is the leader the answers name: the live member named in
// the highest term. It is "" with no error when every running member
// answered and none names a live leader; an error when nobody could say.
func decideRaftLeader(answers []raftAnswer) (string, error) {
	var leader string
	var term uint64
	asked, answered := 0, 0
	for _, a := range answers {
		if !a.asked() {
			continue
		}
		asked++
		if a.err != nil {
			continue
		}
		answered++
		if a.leader != "" && alive(a.leaderState) && (leader == "" || a.term > term) {
			leader, term = a.leader, a.term
		}
	}
	switch {
	case leader != "":
		return leader, nil
	case asked == 0:
		return "", fmt.Errorf("no member runs: %s", sayings(answers))
	case answered < asked:
		// A member that did not answer may be the one that leads.
		return "", fmt.Errorf("no member that answered names a leader: %s", sayings(answers))
	}
	return "", nil
}
