package etcdtest

// Settling: a fault returns once its consequence holds, not just its cause.
//
// Take the raft leader away from a majority (kill, stop or pause its member,
// isolate it, leave it in a minority partition) and for about an election
// timeout the others still follow it. A proposal sent then is forwarded to
// the lost leader and dropped, and etcd answers only after its request
// timeout, 5 s later — the whole budget of the spec's Eventually spent in one
// call. So every fault and every repair ends by settling: the members that
// can still form a majority (running, not paused, and connected to each
// other both ways) must agree on one raft leader among themselves. Where no
// majority remains there is nothing to wait for and the call returns at once.
//
// Settling also routes the cluster's shared client: its endpoints become
// the members of that majority, so Reset, Cluster.Key and Client() do not
// send requests to a member that cannot answer them.
//
// A spec about the leaderless window itself turns settling off with
// NoSettle for as long as it needs, and may call Settle to wait explicitly.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/clients"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/netfault"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proc"
)

// NoSettle makes fault and repair methods (Kill, Stop, Pause, Resume,
// Restart, Isolate, Partition, Heal and the other network faults) return as
// soon as the fault itself has taken effect, without waiting for the raft
// leader election it causes, until the returned function is called. Use it
// for specs about the leaderless window:
//
//	DeferCleanup(cluster.NoSettle())
//	Expect(leader.Kill()).To(Succeed()) // returns once the process is gone; the others still follow it
//
// Call Settle to wait for the cluster explicitly. The shared client's
// routing (see Settle) still follows every fault.
func (c *Cluster) NoSettle() (restore func()) {
	l, err := c.local("NoSettle")
	if err != nil {
		return func() {} // nothing settles against an external cluster
	}
	l.noSettle.Add(1)
	var once sync.Once
	return func() { once.Do(func() { l.noSettle.Add(-1) }) }
}

// Settle waits until the members that can form a majority (running, not
// paused, and connected both ways) agree on one raft leader among
// themselves and a linearizable read through each of them succeeds, and
// routes the shared client to them. It returns at once when no majority
// remains. Fault methods call it before they return (see
// NoSettle); call it yourself after faults injected with settling off.
// ctx bounds the wait; without a deadline, the settle timeout does
// (100 election timeouts; 10 s by default).
func (c *Cluster) Settle(ctx context.Context) error {
	l, err := c.local("Settle")
	if err != nil {
		return err
	}
	return l.settleContext(ctx, "Settle")
}

// settle is the last step of every fault and repair method: it settles
// unless NoSettle is in force, and routes the shared client either way.
// ctx bounds it besides the settle timeout.
func (l *local) settle(ctx context.Context, op string) error {
	if l.noSettle.Load() > 0 {
		l.route(l.majority())
		return nil
	}
	return l.settleContext(ctx, op)
}

// settleTimeout bounds one settling: 100 election timeouts (10 s by
// default). An election takes one or two rounds on an idle machine; on a
// loaded one (ginkgo -p, several packages at once on 2 cores) heartbeats
// come late, elections repeat, and a settle that gives up early fails a
// spec that would have passed.
func (l *local) settleTimeout() time.Duration {
	return 100 * l.cfg.ElectionTimeout
}

func (l *local) settleContext(ctx context.Context, op string) error {
	group := l.majority()
	l.route(group)
	if group == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, l.settleTimeout())
	defer cancel()
	var views []leaderView
	return poll(ctx, 5*time.Millisecond, func() (bool, error) {
		if g := l.majority(); !slices.Equal(g, group) {
			// A member died or the network changed meanwhile: settle what is left.
			group = g
			if l.route(group); group == nil {
				return true, nil
			}
		}
		var ok bool
		views, ok = l.agreement(ctx, group, nil)
		return ok, nil
	}, func() error { return l.settleError(ctx, op, group, views) })
}

// agreement asks once whether every member of group follows one leader in
// group — want, when it is not nil — and serves a linearizable read
// through it: what settling (and MoveLeader, for its target) waits for.
// It returns what each member said of the leader.
func (l *local) agreement(ctx context.Context, group []*Member, want *Member) ([]leaderView, bool) {
	views := l.leaderViews(ctx, group)
	ok := agreed(views, group) && (want == nil || views[0].leader == want.id)
	return views, ok && l.readThroughEach(ctx, group)
}

// majority returns the members that can make progress together (see
// netfault.Majority), in index order; nil when none can.
func (l *local) majority() []*Member {
	ms := l.members()
	facts := make([]netfault.Member, len(ms))
	for i, m := range ms {
		facts[i] = netfault.Member{Up: m.State() == Running, Votes: m.votes()}
	}
	var group []*Member
	for _, i := range netfault.Majority(facts, l.faults.Load().Reaches) {
		group = append(group, ms[i])
	}
	return group
}

// leaderView is what one member says of the raft leader.
type leaderView struct {
	leader uint64
	err    error
}

// leaderViews asks each member of group for the raft leader it follows.
func (l *local) leaderViews(ctx context.Context, group []*Member) []leaderView {
	views := make([]leaderView, len(group))
	clients.EachAtOnce(ctx, group, 250*time.Millisecond, func(ctx context.Context, i int, m *Member) {
		st, err := m.status(ctx)
		if err != nil {
			views[i].err = err
			return
		}
		views[i].leader = st.Leader
	})
	return views
}

// readThroughEach reports whether a linearizable read through each member
// of group succeeds. Agreeing on a leader is not enough: a member that
// rejoins (Heal, Resume) may still hold a peer stream the fault broke,
// which it notices only when a write on it fails — losing what it wrote,
// such as a proposal it forwards to the leader, which etcd then answers
// after its 5 s request timeout. A read's ReadIndex takes the same path
// both ways, so once it succeeds through every member, their streams carry.
func (l *local) readThroughEach(ctx context.Context, group []*Member) bool {
	ok := make([]bool, len(group))
	clients.EachAtOnce(ctx, group, 500*time.Millisecond, func(ctx context.Context, i int, m *Member) {
		if m.learner.Load() {
			ok[i] = true // a learner serves no linearizable read; it follows the leader
			return
		}
		_, err := m.client.Get(ctx, "etcdtest-settle")
		ok[i] = err == nil
	})
	return !slices.Contains(ok, false)
}

// agreed reports whether every member of group follows one leader in group.
func agreed(views []leaderView, group []*Member) bool {
	for _, v := range views {
		if v.err != nil || v.leader == 0 || v.leader != views[0].leader {
			return false
		}
	}
	return slices.ContainsFunc(group, func(m *Member) bool { return m.id == views[0].leader })
}

func (l *local) settleError(ctx context.Context, op string, group []*Member, views []leaderView) error {
	var names, seen []string
	for i, m := range group {
		names = append(names, m.name)
		switch v := views[i]; {
		case v.err != nil:
			seen = append(seen, fmt.Sprintf("%s: %v", m.name, v.err))
		case v.leader == 0:
			seen = append(seen, m.name+" follows no leader")
		case l.memberByID(v.leader) == nil:
			seen = append(seen, fmt.Sprintf("%s follows %x, not a member", m.name, v.leader))
		default:
			l := l.memberByID(v.leader)
			seen = append(seen, fmt.Sprintf("%s follows %s (%s)", m.name, l.name, l.State()))
		}
	}
	what := "did not agree on a raft leader among themselves"
	if agreed(views, group) {
		what = "agree on a raft leader, but a linearizable read through one of them kept failing"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "etcdtest: %s: members {%s} %s within %v (%v): %s.\n"+
		"The fault stays in effect. On a loaded machine raise Config.ElectionTimeout or give more time with Settle(ctx); "+
		"to test the leaderless window itself, use Cluster.NoSettle. The members' logs say why:",
		op, strings.Join(names, " "), what, l.settleTimeout(), context.Cause(ctx), strings.Join(seen, "; "))
	for _, m := range group {
		fmt.Fprintf(&b, "\n--- last lines of %s's log ---\n%s", m.name, proc.Tail(m.Logs(), 1200))
	}
	return fmt.Errorf("%s", b.String())
}

// route points the shared client at group, the members that can serve; a
// request sent to a paused, dead or cut-off member would wait for its
// deadline. Without a majority it keeps every member that runs.
func (l *local) route(group []*Member) {
	if group == nil {
		for _, m := range l.members() {
			if m.State() == Running {
				group = append(group, m)
			}
		}
	}
	var eps []string
	for _, m := range group {
		if !m.learner.Load() { // a learner refuses most requests
			eps = append(eps, m.ClientURL())
		}
	}
	if len(eps) == 0 {
		return // nothing can serve; keep the endpoints, for when members return
	}
	l.routeMu.Lock()
	defer l.routeMu.Unlock()
	if l.client == nil || slices.Equal(l.client.Endpoints(), eps) {
		return
	}
	l.client.SetEndpoints(eps...)
}
