package etcdtest

// Membership changes, as an operator makes them: add a member (as a voter,
// or as a learner that catches up without voting), promote a learner,
// remove a member. Each returns once its effect is visible to a spec: an
// added member serves (a learner has caught up with the leader's log), a
// promoted one votes, a removed one is out of the membership with its
// process gone, and the cluster has settled on the new quorum.
//
// Indexes never shift: Members lists every member the cluster has had, in
// the order they joined. An added member takes the next index and name
// (node4 after node1..node3); a removed one keeps its index, in state
// Removed, and faults, settling and matchers leave it out.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/host"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// MemberOption configures a member AddMember adds.
type MemberOption func(*memberOptions)

type memberOptions struct {
	learner bool
}

// AsLearner adds the member as a raft learner: it receives the log but does
// not vote and serves no linearizable request, until PromoteMember makes it
// a voter. AddMember returns once it has caught up with the leader.
func AsLearner() MemberOption { return func(o *memberOptions) { o.learner = true } }

// Learner reports whether the member is a raft learner: added with
// AsLearner and not promoted yet.
func (m *Member) Learner() bool { return m.learner.Load() }

// votes reports whether the member counts toward the quorum: neither
// removed nor a learner.
func (m *Member) votes() bool { return m.State() != Removed && !m.learner.Load() }

// AddMember adds a member to the running cluster, as etcd's operators do:
// it announces the member (etcd's MemberAdd), starts its process on
// reserved ports with its own data dir, peer proxy and log, and returns it
// once it serves — as a voter, once a linearizable read through it
// succeeds and the cluster has settled on the larger quorum; as a learner
// (AsLearner), once it has caught up with the leader's log.
//
// It takes the next index and name (node4 in a 3-member cluster). Adding a
// member needs a quorum, and a partitioned cluster is refused: Heal first.
// On error nothing is left: the member is removed from the membership
// again, its process stopped and its data removed. ctx bounds the wait;
// without a deadline, Config.StartTimeout does.
func (c *Cluster) AddMember(ctx context.Context, opts ...MemberOption) (*Member, error) {
	l, err := c.local("AddMember")
	if err != nil {
		return nil, err
	}
	var o memberOptions
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("etcdtest: AddMember: a nil MemberOption; pass etcdtest.AsLearner() or nothing")
		}
		opt(&o)
	}
	l.opMu.Lock()
	defer l.opMu.Unlock()
	if f := l.faults.Load(); f.Partitioned() || f.HasCuts() {
		return nil, fmt.Errorf("etcdtest: AddMember: the cluster is partitioned (%s); a new member could not reach the leader: call Heal first", l.networkFaults())
	}
	ctx, cancel := l.startContext(ctx)
	defer cancel()
	return l.addMemberLive(ctx, o)
}

func (l *local) addMemberLive(ctx context.Context, o memberOptions) (_ *Member, err error) {
	ports, err := host.ReservePorts(portsPerMember(l.cfg))
	if err != nil {
		return nil, err
	}
	m, err := l.newMember(len(l.members()), ports.Ports[0], ports.Ports[1])
	if err != nil {
		ports.Release()
		return nil, err
	}
	m.learner.Store(o.learner)
	if l.cfg.Failpoints {
		m.fp.Port = ports.Ports[2]
	}
	announced := false
	defer func() {
		if err != nil {
			err = errors.Join(err, l.abandon(m, ports, announced))
		}
	}()
	var resp *clientv3.MemberAddResponse
	if o.learner {
		resp, err = l.client.MemberAddAsLearner(ctx, []string{m.PeerURL()})
	} else {
		resp, err = l.client.MemberAdd(ctx, []string{m.PeerURL()})
	}
	if err != nil {
		return nil, fmt.Errorf("etcdtest: AddMember: etcd refused to add %s: %w", m.name, err)
	}
	announced, m.id = true, resp.Member.ID
	var peers []string
	for _, o := range l.members() {
		if o.State() != Removed {
			peers = append(peers, o.name+"="+o.PeerURL())
		}
	}
	m.joinedWith = strings.Join(append(peers, m.name+"="+m.PeerURL()), ",")
	// Readiness is asked anonymously: with Config.Auth a login needs the
	// member to serve already. The member's own client logs in after.
	if m.client, err = l.newClientAs([]string{m.ClientURL()}, anonymous); err != nil {
		return nil, err
	}
	clientsRefuse(m)
	if err := m.start(); err != nil {
		return nil, err
	}
	if err := l.waitJoined(ctx, m); err != nil {
		return nil, err
	}
	if l.sec.user != "" {
		anon := m.client
		if m.client, err = l.newClient([]string{m.ClientURL()}); err != nil {
			m.client = anon
			return nil, err
		}
		clientsRefuse(m)
		anon.Close()
	}
	l.extraPorts = append(l.extraPorts, ports)
	l.addToList(m)
	return m, l.settle(ctx, "AddMember("+m.name+")")
}

// stallAfter is how long a new member may take to serve before waitJoined
// takes it for stalled: ~0.1 s is usual, 5.3 s is etcd's publish stall.
// publishGrace is how long after its log says it applied a snapshot: a
// member whose publish survived serves within milliseconds of that.
const (
	stallAfter   = 1500 * time.Millisecond
	publishGrace = 300 * time.Millisecond
)

// waitJoined polls until m serves as this cluster's member and, as a
// voter, answers a linearizable read; as a learner, has caught up with the
// leader's log as it was when m started.
//
// A member joining a cluster whose raft log the leader has compacted (etcd
// 3.6+ does so every 100 entries) receives a snapshot, and applying it
// resets its peer streams. When that races the member's first proposal —
// publishing its name, without which it serves no client — the proposal is
// lost and etcd waits out its 5.2 s publish timeout before it tries again.
// A member that has not served within stallAfter is therefore restarted
// once: with the snapshot on disk, it publishes at once.
func (l *local) waitJoined(ctx context.Context, m *Member) error {
	var target uint64 // the leader's raft index, once known
	var last error
	started, restarted := time.Now(), false
	var snapshotAt time.Time // when its log first said it applied a snapshot
	return poll(ctx, 5*time.Millisecond, func() (bool, error) {
		if done, err := m.exited(); done {
			return false, l.exitError(m, err)
		}
		if last = l.joinedOnce(ctx, m, &target); last == nil {
			return true, nil
		}
		if !restarted && snapshotAt.IsZero() && strings.Contains(m.Logs(), `"applied snapshot"`) {
			snapshotAt = time.Now()
		}
		if !restarted && (time.Since(started) > stallAfter || !snapshotAt.IsZero() && time.Since(snapshotAt) > publishGrace) {
			restarted = true
			fmt.Fprintf(m.log, "--- etcdtest: %s did not serve within %v of joining (%v); restarting it once (see waitJoined) ---\n", m.name, stallAfter, last)
			if p, _ := m.signal(syscall.SIGKILL, Killed); p != nil {
				<-p.done
			}
			return false, m.start()
		}
		return false, nil
	}, func() error { return l.timeoutError(ctx, "new member "+m.name+" to serve", last) })
}

func (l *local) joinedOnce(ctx context.Context, m *Member, target *uint64) error {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	leader, err := l.memberStatus(ctx, m)
	if err != nil {
		return err
	}
	if !m.learner.Load() {
		if _, err := m.client.Get(ctx, "etcdtest-readiness"); err != nil && !errors.Is(err, rpctypes.ErrUserEmpty) {
			return fmt.Errorf("member %s: linearizable read: %w", m.name, err)
		}
		return nil // an anonymous read refused by auth got through raft: it serves
	}
	if *target == 0 {
		lm := l.memberByID(leader)
		st, err := lm.status(ctx)
		if err != nil {
			return fmt.Errorf("status of the raft leader %s: %w", lm.name, err)
		}
		*target = st.RaftIndex
	}
	st, err := m.status(ctx)
	if err != nil {
		return err
	}
	if st.RaftIndex < *target {
		return fmt.Errorf("learner %s is at raft index %d, the leader was at %d", m.name, st.RaftIndex, *target)
	}
	return nil
}

// abandon undoes a failed AddMember: out of the membership again (if it
// got in), process, proxy, client, ports and data gone. A member etcd still
// lists after a failed removal would count toward every quorum without ever
// answering, so that failure is returned, with the fix.
func (l *local) abandon(m *Member, ports *host.PortSet, announced bool) (err error) {
	if announced {
		ctx, cancel := context.WithTimeout(context.Background(), l.cfg.CallTimeout)
		if _, rerr := l.client.MemberRemove(ctx, m.id); rerr != nil {
			err = fmt.Errorf("etcdtest: AddMember could not take the failed member %s (ID %x) out of etcd's membership again, so etcd counts it toward the quorum: %w; remove it with Cluster.Client().MemberRemove(ctx, %#x) once the cluster serves, or Stop the cluster", m.name, m.id, rerr, m.id)
		}
		cancel()
	}
	if p, _ := m.signal(syscall.SIGKILL, Removed); p != nil {
		<-p.done
	}
	if m.client != nil {
		m.client.Close()
	}
	m.proxy.Close()
	ports.Release()
	os.RemoveAll(m.dataDir)
	return err
}

// PromoteMember makes learner m a voting member (etcd's MemberPromote) and
// returns once the cluster has settled on the larger quorum. etcd refuses
// to promote a learner that has not caught up with the leader yet; that is
// retried until ctx ends (Config.StartTimeout without a deadline).
func (c *Cluster) PromoteMember(ctx context.Context, m *Member) error {
	l, err := c.local("PromoteMember")
	if err != nil {
		return err
	}
	if err := l.own("PromoteMember", m); err != nil {
		return err
	}
	if !m.learner.Load() {
		return fmt.Errorf("etcdtest: PromoteMember(%s): it is a voting member already; only a member added with AsLearner can be promoted", m.name)
	}
	l.opMu.Lock()
	defer l.opMu.Unlock()
	ctx, cancel := l.startContext(ctx)
	defer cancel()
	var last error
	err = poll(ctx, 10*time.Millisecond, func() (bool, error) { // etcd says "not in sync yet": ask again
		_, last = l.client.MemberPromote(ctx, m.id)
		if last != nil && (!errors.Is(last, rpctypes.ErrMemberLearnerNotReady) || ctx.Err() != nil) {
			return false, fmt.Errorf("etcdtest: PromoteMember(%s): %w", m.name, last)
		}
		return last == nil, nil
	}, func() error {
		return fmt.Errorf("etcdtest: PromoteMember(%s): %w (%w)", m.name, last, context.Cause(ctx))
	})
	if err != nil {
		return err
	}
	m.learner.Store(false)
	return l.settle(ctx, "PromoteMember("+m.name+")")
}

// RemoveMember removes m from the membership (etcd's MemberRemove), stops
// its process and returns once the remaining members have settled. m keeps
// its index, in state Removed; its data stays until Stop. Removing the last
// voting member is refused: the cluster would be gone.
func (c *Cluster) RemoveMember(ctx context.Context, m *Member) error {
	l, err := c.local("RemoveMember")
	if err != nil {
		return err
	}
	if err := l.own("RemoveMember", m); err != nil {
		return err
	}
	l.opMu.Lock()
	defer l.opMu.Unlock()
	if len(voters(l.members())) == 1 && m.votes() {
		return fmt.Errorf("etcdtest: RemoveMember(%s): it is the last voting member; a cluster needs one (add another first, or Stop the cluster)", m.name)
	}
	ctx, cancel := l.startContext(ctx)
	defer cancel()
	// Asked through another member: the one removed stops itself once it
	// applies its removal, and answers the call that removed it with
	// "server stopped" although the removal went through.
	via := l.client
	for _, o := range l.members() {
		if o != m && o.State() == Running && !o.learner.Load() {
			via = o.client
			break
		}
	}
	if _, err := via.MemberRemove(ctx, m.id); err != nil {
		return fmt.Errorf("etcdtest: RemoveMember(%s): %w", m.name, err)
	}
	// etcd stops a removed member by itself, in its own time; the data is
	// disposable, so SIGKILL it now.
	if p, err := m.signal(syscall.SIGKILL, Removed); err != nil {
		return err
	} else if p != nil {
		<-p.done
	}
	m.mu.Lock()
	m.state = Removed
	m.mu.Unlock()
	m.proxy.DropAll()
	return l.settle(ctx, "RemoveMember("+m.name+")")
}

// own checks that m is a current member of this cluster.
func (l *local) own(op string, m *Member) error {
	switch {
	case m == nil:
		return fmt.Errorf("etcdtest: %s: the member is nil", op)
	case m.l != l:
		return fmt.Errorf("etcdtest: %s(%s): not a member of this cluster (%x); pass one of its Members()", op, m.name, l.id)
	case m.State() == Removed:
		return fmt.Errorf("etcdtest: %s(%s): it was removed from the cluster already; AddMember adds a new member", op, m.name)
	}
	return nil
}
