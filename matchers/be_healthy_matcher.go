package matchers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/onsi/gomega/types"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// BeHealthy succeeds when the cluster, or one member, serves:
//
//	Eventually(cluster).Should(matchers.BeHealthy())
//	Expect(cluster.Member(0)).NotTo(matchers.BeHealthy())
//
// The actual is a *etcdtest.Cluster or a *etcdtest.Member. A member is
// healthy when its process runs (not killed, stopped or paused), it reports a
// raft leader and no alarm, and it serves a linearizable read — which needs a
// quorum and the leader's attention, so a member cut off from its peers is
// not healthy. A cluster is healthy when every member is and they all name
// the same raft leader; so a partition that splits it (Cluster.Isolate,
// Partition) makes it unhealthy, since the members cut off from a quorum
// cannot serve. Every poll asks each member afresh, in parallel, each
// request bounded by QueryTimeout.
//
// Unlike the matchers that read a key or the raft leader, BeHealthy never
// returns an error for a member that does not answer: not answering within
// QueryTimeout is what "not healthy" means, so silence is the answer it
// checks, not a read that failed. Expect(member).NotTo(matchers.BeHealthy())
// passing while the member is paused is true and useful; and the positive
// form cannot pass on silence, since healthy needs every member's answer.
//
// The failure message lists each member: its state, the raft leader it
// sees, and what failed; then the raft leader and any partition. A stopped
// cluster (or a member of one) is never healthy again, so Eventually gives
// up at once on it.
func BeHealthy() types.GomegaMatcher {
	return &beHealthyMatcher{}
}

type beHealthyMatcher struct {
	mu   sync.Mutex
	last health
}

// health is the outcome of one poll.
type health struct {
	what      string // "etcd cluster (node1, node2, node3)" or "etcd member node2"
	stopped   bool
	members   []memberHealth
	partition string // as etcdtest describes it; "" for none
	problems  []string
}

type memberHealth struct {
	name     string
	state    etcdtest.State
	leader   string // name of the raft leader it reports; "" for none
	term     uint64
	problems []string
}

func (h health) healthy() bool {
	if h.stopped || len(h.problems) > 0 {
		return false
	}
	for _, m := range h.members {
		if len(m.problems) > 0 {
			return false
		}
	}
	return true
}

func (m *beHealthyMatcher) Match(actual any) (bool, error) {
	var h health
	switch a := actual.(type) {
	case *etcdtest.Cluster:
		if a == nil {
			return false, m.typeError(actual)
		}
		h = clusterHealth(a)
	case *etcdtest.Member:
		if a == nil {
			return false, m.typeError(actual)
		}
		h = health{what: "etcd member " + a.Name(), stopped: !clientOpen(a), members: []memberHealth{checkMember(a, nil)}}
	default:
		return false, m.typeError(actual)
	}
	m.mu.Lock()
	m.last = h
	m.mu.Unlock()
	return h.healthy(), nil
}

func (m *beHealthyMatcher) typeError(actual any) error {
	return fmt.Errorf("BeHealthy matcher expects a *etcdtest.Cluster or a *etcdtest.Member. Got:\n%s", formatActual(actual))
}

func (m *beHealthyMatcher) FailureMessage(actual any) string {
	m.mu.Lock()
	h := m.last
	m.mu.Unlock()
	return fmt.Sprintf("Expected %s to be healthy, but it is not:\n%s", h.what, h.describe())
}

func (m *beHealthyMatcher) NegatedFailureMessage(actual any) string {
	m.mu.Lock()
	h := m.last
	m.mu.Unlock()
	return fmt.Sprintf("Expected %s not to be healthy, but it is:\n%s", h.what, h.describe())
}

// MatchMayChangeInTheFuture is false for a stopped cluster, a member of a
// stopped cluster, and an actual of another type.
func (m *beHealthyMatcher) MatchMayChangeInTheFuture(actual any) bool {
	switch a := actual.(type) {
	case *etcdtest.Cluster:
		return a != nil && !a.Stopped()
	case *etcdtest.Member:
		return a != nil && clientOpen(a)
	}
	return false
}

// clientOpen reports whether the member's client is still open: Cluster.Stop
// closes it, and nothing reopens it.
func clientOpen(m *etcdtest.Member) bool {
	return m.Client() == nil || m.Client().Ctx().Err() == nil
}

func clusterHealth(c *etcdtest.Cluster) health {
	var members []*etcdtest.Member
	for _, m := range c.Members() {
		if m.State() != etcdtest.Removed { // no longer part of the cluster
			members = append(members, m)
		}
	}
	h := health{what: clusterName(members)}
	if c.Stopped() {
		h.stopped = true
		return h
	}
	byID := make(map[uint64]string, len(members))
	for _, m := range members {
		byID[m.ID()] = m.Name()
	}
	h.members = make([]memberHealth, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.members[i] = checkMember(m, byID)
		}()
	}
	wg.Wait()

	leaders := map[string]bool{}
	for _, m := range h.members {
		if m.leader != "" {
			leaders[m.leader] = true
		}
	}
	if len(leaders) > 1 {
		h.problems = append(h.problems, "members name different raft leaders")
	}
	if !h.healthy() {
		// Only etcdtest knows the partition it keeps; its diagnostics say.
		h.partition = partitionOf(c)
	}
	return h
}

// checkMember asks one member how it is. byID names members by raft ID; nil
// means the member's own cluster is unknown, and leaders are shown by ID.
func checkMember(m *etcdtest.Member, byID map[uint64]string) memberHealth {
	mh := memberHealth{name: m.Name(), state: m.State()}
	switch mh.state {
	case etcdtest.Running, etcdtest.External:
	case etcdtest.Paused:
		mh.problems = append(mh.problems, "frozen by Pause, it answers nothing until Resume")
		return mh
	case etcdtest.Exited:
		mh.problems = append(mh.problems, "down: it exited by itself (see Member.Logs)")
		return mh
	default:
		mh.problems = append(mh.problems, "down: Restart brings it back")
		return mh
	}
	cli := m.Client()
	if cli == nil {
		mh.problems = append(mh.problems, "no client URL")
		return mh
	}
	if cli.Ctx().Err() != nil {
		mh.problems = append(mh.problems, "its client is closed (the cluster was stopped)")
		return mh
	}
	ctx, cancel := context.WithTimeout(cli.Ctx(), QueryTimeout)
	defer cancel()
	st, err := m.Status(ctx)
	if err != nil {
		mh.problems = append(mh.problems, fmt.Sprintf("status: %v", err))
		return mh
	}
	mh.term = st.RaftTerm
	if st.Leader == 0 {
		mh.problems = append(mh.problems, "no raft leader (cut off from its peers, or no quorum)")
	} else if name, ok := byID[st.Leader]; ok {
		mh.leader = name
	} else if st.Leader == m.ID() {
		mh.leader = m.Name()
	} else {
		mh.leader = fmt.Sprintf("%x", st.Leader)
	}
	for _, e := range st.Errors {
		mh.problems = append(mh.problems, "error: "+e)
	}
	if len(mh.problems) > 0 {
		return mh
	}
	// A linearizable read proves the member reaches the leader and the
	// leader a quorum: what Status alone does not. A learner serves none.
	if m.Learner() {
		return mh
	}
	if _, err := cli.Get(ctx, "etcdtest-health"); err != nil {
		mh.problems = append(mh.problems, fmt.Sprintf("linearizable read: %v", err))
	}
	return mh
}

// partitionOf is the network faults etcdtest keeps, or "" when there are none.
func partitionOf(c *etcdtest.Cluster) string { return c.NetworkFaults() }

func (h health) describe() string {
	var b strings.Builder
	if h.stopped {
		b.WriteString("    stopped (it will not change any more)\n")
	}
	leaders := map[string]uint64{}
	for _, m := range h.members {
		fmt.Fprintf(&b, "    %s: %s", m.name, m.state)
		if m.leader != "" {
			fmt.Fprintf(&b, ", raft leader %s (term %d)", m.leader, m.term)
			if t, ok := leaders[m.leader]; !ok || m.term > t {
				leaders[m.leader] = m.term
			}
		}
		if len(m.problems) == 0 {
			b.WriteString(", serves\n")
		} else {
			fmt.Fprintf(&b, ": %s\n", strings.Join(m.problems, "; "))
		}
	}
	if len(h.members) > 1 {
		names := make([]string, 0, len(leaders))
		for name := range leaders {
			names = append(names, name)
		}
		slices.Sort(names)
		if len(names) == 0 {
			b.WriteString("    raft leader: none\n")
		} else {
			fmt.Fprintf(&b, "    raft leader: %s\n", strings.Join(names, " or "))
		}
	}
	if h.partition != "" {
		fmt.Fprintf(&b, "    network faults: %s\n", h.partition)
	}
	for _, p := range h.problems {
		fmt.Fprintf(&b, "    %s\n", p)
	}
	return b.String()
}
