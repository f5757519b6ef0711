package etcdtest

// Leader transfer: maintenance moves the raft leader on purpose, and the
// user's code must ride it out. etcd's MoveLeader RPC has two traps that
// this file keeps away from a spec:
//
//   - It must reach the current leader (any other member answers "not
//     leader"), and clientv3 sends it through the client's own connection,
//     so it goes through the leader member's own client, found first.
//   - The leader waits for the transfer with the caller's context alone: to
//     a member that cannot take over (paused, cut off) raft gives up after an
//     election timeout, but the RPC waits on until the deadline. So the target
//     is checked before anything is sent — its state and whether it is in the
//     majority — and each attempt is bounded by a few election timeouts.
//
// The RPC returning means the old leader follows the target; the others
// learn it with the target's first heartbeat. MoveLeader returns once every
// member of the majority agrees and a read through each succeeds, as a
// settled fault does (settle.go): the next line of a spec can write through
// any member at its first attempt.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// MoveLeader makes member m the raft leader and returns once every running
// member that can reach the others (the members settling waits for; see
// Settle) follows m and serves a linearizable read. Moving the leader to
// the member that already leads succeeds at once.
//
// It fails at once, without asking etcd, when m is not one of this cluster's
// members, when it is paused, killed or stopped (Resume or Restart it
// first), or when network faults cut it off from the majority (Heal first:
// etcd would wait out its request timeout). ctx bounds the wait; without a
// deadline the settle timeout does (100 election timeouts; 10 s by default).
// Against an external cluster it returns an error wrapping ErrExternal.
func (c *Cluster) MoveLeader(ctx context.Context, m *Member) error {
	l, err := c.local("MoveLeader")
	if err != nil {
		return err
	}
	return l.moveLeader(ctx, m)
}

func (l *local) moveLeader(ctx context.Context, m *Member) error {
	if m == nil {
		return errors.New("etcdtest: MoveLeader(nil): name the member to lead, e.g. cluster.MoveLeader(ctx, cluster.Member(1))")
	}
	op := "MoveLeader(" + m.name + ")"
	group, err := l.leadable(op, m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, l.settleTimeout())
	defer cancel()
	// Each attempt is bounded: etcd waits for the transfer until the RPC's
	// deadline even after raft gave it up (after one election timeout).
	attempt := 20 * l.cfg.ElectionTimeout
	var last error
	for {
		if err := l.settleContext(ctx, op); err != nil {
			return err
		}
		leader, err := l.leaderOf(ctx, group)
		if err != nil {
			last = err
		} else if leader == m {
			if last = l.agreeOn(ctx, group, m); last == nil {
				return nil
			}
		} else {
			actx, acancel := context.WithTimeout(ctx, attempt)
			_, err := leader.client.MoveLeader(actx, m.id)
			acancel()
			if err == nil {
				if last = l.agreeOn(ctx, group, m); last == nil {
					return nil
				}
			} else if errors.Is(err, rpctypes.ErrBadLeaderTransferee) {
				// A learner (or a member etcd no longer lists): no retry helps.
				return fmt.Errorf("etcdtest: %s: etcd refuses %s as leader (%w): a learner cannot lead; PromoteMember it first", op, m.name, err)
			} else {
				// "not leader" (leadership moved meanwhile) or a transfer
				// raft gave up on: ask again who leads, and retry.
				last = fmt.Errorf("etcd's MoveLeader via %s: %w", leader.name, err)
			}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("etcdtest: %s: %s did not become the raft leader within %v (%v); last: %v. "+
				"On a loaded machine raise Config.ElectionTimeout or give ctx more time; the members' logs (Member.Logs) say why",
				op, m.name, l.settleTimeout(), context.Cause(ctx), last)
		}
		if group = l.majority(); !slices.Contains(group, m) {
			return fmt.Errorf("etcdtest: %s: member %s left the majority while leadership moved (it is %s; network faults: %q)", op, m.name, m.State(), l.networkFaults())
		}
	}
}

// leadable returns the majority group m can lead, or why m cannot lead
// now — checked before anything is sent, as etcd would wait out its
// request timeout for a target that cannot take over.
func (l *local) leadable(op string, m *Member) ([]*Member, error) {
	if m.l != l {
		return nil, fmt.Errorf("etcdtest: %s: %s is not a member of this cluster (a member of another cluster?); pass one of this cluster's Members()", op, m.name)
	}
	if st := m.State(); st != Running {
		fix := "pick a running member"
		switch st {
		case Paused:
			fix = "Resume it first"
		case Killed, Stopped, Exited:
			fix = "Restart it first"
		}
		return nil, fmt.Errorf("etcdtest: %s: member %s is %s and cannot lead: %s", op, m.name, st, fix)
	}
	group := l.majority()
	if group == nil {
		return nil, fmt.Errorf("etcdtest: %s: fewer than a majority of the members are running and connected to each other, so there is no leader to hand over; Resume, Restart or Heal first", op)
	}
	if !slices.Contains(group, m) {
		return nil, fmt.Errorf("etcdtest: %s: member %s is cut off from the majority {%s} by network faults (%s): a leader must reach a majority; Heal first",
			op, m.name, memberNames(group), l.networkFaults())
	}
	return group, nil
}

// leaderOf returns the leader the settled group agrees on.
func (l *local) leaderOf(ctx context.Context, group []*Member) (*Member, error) {
	views := l.leaderViews(ctx, group)
	if !agreed(views, group) {
		return nil, fmt.Errorf("members {%s} do not agree on a raft leader", memberNames(group))
	}
	return l.memberByID(views[0].leader), nil
}

// agreeOn waits until every member of group follows m and a read through
// each succeeds, or ctx ends; it returns the last disagreement.
func (l *local) agreeOn(ctx context.Context, group []*Member, m *Member) error {
	var views []leaderView
	return poll(ctx, 2*time.Millisecond, func() (bool, error) {
		var ok bool
		views, ok = l.agreement(ctx, group, m)
		return ok, nil
	}, func() error {
		var behind []string
		for i, v := range views {
			if v.err != nil || v.leader != m.id {
				behind = append(behind, group[i].name)
			}
		}
		if behind == nil {
			return fmt.Errorf("every member follows %s, but a read through one of them kept failing", m.name)
		}
		return fmt.Errorf("members {%s} do not follow %s yet", joinNames(behind), m.name)
	})
}

func memberNames(ms []*Member) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.name
	}
	return joinNames(names)
}

func joinNames(names []string) string { return strings.Join(names, " ") }
