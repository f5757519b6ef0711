package chaos

// Injecting one step and healing it, and the final heal of everything. Each
// etcdtest call bounds its own wait (faults settle within their timeout);
// the calls that take a context get one bounded here.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// opTimeout bounds one call that takes a context (Restart, MoveLeader,
// Leader).
const opTimeout = 30 * time.Second

type healFunc func(ctx context.Context) error

func noHeal(context.Context) error { return nil }

// inject carries out s (drawn by next, with p.pending its draws), filling in
// the members it hit, and returns how to heal it.
func (p *planner) inject(ctx context.Context, s *Step) (healFunc, error) {
	d := p.pending
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	switch s.Fault {
	case CutClient:
		link := p.opts.Links[d.link]
		s.Members = []string{fmt.Sprintf("link %d", d.link+1)}
		link.Cut()
		return func(context.Context) error { link.Heal(); return nil }, nil
	case MoveLeader:
		leader, err := p.leader(ctx)
		if err != nil {
			return nil, err
		}
		to := -1
		for _, i := range d.perm {
			if i != leader && p.c.Member(i).State() == etcdtest.Running {
				to = i
				break
			}
		}
		if to < 0 {
			return noHeal, nil
		}
		s.Members = []string{p.c.Member(to).Name()}
		return noHeal, p.c.MoveLeader(ctx, p.c.Member(to))
	}
	targets, err := p.resolve(ctx, s.Target, d.perm)
	if err != nil {
		return nil, err
	}
	for _, i := range targets {
		s.Members = append(s.Members, p.c.Member(i).Name())
	}
	rest := p.others(targets)
	switch s.Fault {
	case Failpoint:
		return p.injectFailpoint(ctx, s, targets, failpointOf(d))
	case Kill:
		return p.each(targets, (*etcdtest.Member).Kill, restart)
	case Pause:
		return p.each(targets, (*etcdtest.Member).Pause, func(_ context.Context, m *etcdtest.Member) error { return m.Resume() })
	case Restart:
		for _, i := range targets {
			if err := p.c.Member(i).Restart(ctx); err != nil {
				return nil, err
			}
		}
		return noHeal, nil
	case Isolate:
		for _, i := range targets {
			if err := p.c.Isolate(i); err != nil {
				return p.heal, err
			}
		}
		return p.heal, nil
	case Partition:
		return p.heal, p.c.Partition(targets, rest)
	case OneWay:
		return p.heal, p.c.CutOneWay(targets, rest)
	case Latency:
		delay := 150*time.Millisecond + time.Duration(d.amount*float64(850*time.Millisecond)).Round(time.Millisecond)
		s.Members = append(s.Members, "+"+delay.String())
		return p.heal, p.c.Delay(delay, targets...)
	case Loss:
		rate := 0.1 + float64(int(d.amount*40))/100
		s.Members = append(s.Members, fmt.Sprintf("%.0f%%", rate*100))
		return p.heal, p.c.Drop(rate, targets...)
	}
	return nil, fmt.Errorf("chaos: fault %q has no injection", s.Fault)
}

// resolve turns a target into member indexes.
func (p *planner) resolve(ctx context.Context, t Target, perm []int) ([]int, error) {
	switch t {
	case RaftLeader:
		l, err := p.leader(ctx)
		if err != nil {
			return nil, err
		}
		return []int{l}, nil
	case Minority:
		return perm[:max((p.members-1)/2, 1)], nil
	case Majority:
		return perm[:min(p.members/2+1, p.members-1)], nil // never every member: a partition needs another side
	default:
		return perm[:1], nil
	}
}

// leader is the index of the raft leader now.
func (p *planner) leader(ctx context.Context) (int, error) {
	m, err := p.c.Leader(ctx)
	if err != nil {
		return -1, fmt.Errorf("find the raft leader: %w", err)
	}
	for i, x := range p.c.Members() {
		if x == m {
			return i, nil
		}
	}
	return -1, fmt.Errorf("the raft leader %s is not a member this run knows", m.Name())
}

// others are the member indexes not in targets.
func (p *planner) others(targets []int) []int {
	var rest []int
	for i := range p.members {
		in := false
		for _, t := range targets {
			in = in || t == i
		}
		if !in {
			rest = append(rest, i)
		}
	}
	return rest
}

// each applies fault to every target, and returns the repair of all that
// were hit, in order.
func (p *planner) each(targets []int, fault func(*etcdtest.Member) error, repair func(context.Context, *etcdtest.Member) error) (healFunc, error) {
	var hit []*etcdtest.Member
	heal := func(ctx context.Context) error {
		var errs []error
		for _, m := range hit {
			errs = append(errs, repair(ctx, m))
		}
		return errors.Join(errs...)
	}
	for _, i := range targets {
		m := p.c.Member(i)
		if err := fault(m); err != nil {
			return heal, err
		}
		hit = append(hit, m)
	}
	return heal, nil
}

func restart(ctx context.Context, m *etcdtest.Member) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	return m.Restart(ctx)
}

func (p *planner) heal(context.Context) error { return p.c.Heal() }

// healAll undoes whatever may still be broken: network faults, cut links,
// paused and killed members.
func (p *planner) healAll(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, healTimeout)
	defer cancel()
	var errs []error
	for _, l := range p.opts.Links {
		l.Heal()
	}
	for _, m := range p.c.Members() {
		switch m.State() {
		case etcdtest.Paused:
			errs = append(errs, m.Resume())
		case etcdtest.Killed, etcdtest.Stopped, etcdtest.Exited:
			errs = append(errs, m.Restart(ctx))
		}
	}
	errs = append(errs, p.c.Heal())
	return errors.Join(errs...)
}
