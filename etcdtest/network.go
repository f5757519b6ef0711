package etcdtest

// The fault methods on the members' peer network. Each checks its input,
// changes the cluster's fault snapshot (faultstore.go) and has every peer proxy
// enforce it, then settles (settle.go) where the fault leads somewhere.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/netfault"
)

// Isolate cuts member i off from every peer, in both directions. Clients
// still reach it. It returns once the others agree on a raft leader among
// themselves: if member i led, they have elected a new one (see NoSettle).
// Heal undoes it.
func (c *Cluster) Isolate(i int) error {
	l, err := c.local("Isolate")
	if err != nil {
		return err
	}
	if err := l.checkIndexes("Isolate", i); err != nil {
		return err
	}
	groups := make([]int, len(l.members()))
	groups[i] = 1
	if err := l.partition(groups); err != nil {
		return err
	}
	return l.settle(context.Background(), "Isolate")
}

// Partition splits the members into groups: only members in the same group
// can talk to each other (raft, snapshots, lease forwarding: all peer
// traffic). Members listed in no group form one more group together. For
// example Partition([]int{0}, []int{1, 2}) cuts member 0 off from 1 and 2.
// It returns once the group holding a majority, if any, agrees on a raft
// leader within itself (see NoSettle).
func (c *Cluster) Partition(groups ...[]int) error {
	l, err := c.local("Partition")
	if err != nil {
		return err
	}
	g := make([]int, len(l.members()))
	for i := range g {
		g[i] = -1
	}
	for gi, group := range groups {
		if err := l.checkIndexes("Partition", group...); err != nil {
			return err
		}
		for _, i := range group {
			if g[i] >= 0 {
				return fmt.Errorf("etcdtest: Partition: member %d is in groups %d and %d; each member belongs to one group", i, g[i], gi)
			}
			g[i] = gi
		}
	}
	for i := range g {
		if g[i] < 0 {
			g[i] = len(groups)
		}
	}
	if err := l.partition(g); err != nil {
		return err
	}
	return l.settle(context.Background(), "Partition")
}

// Heal undoes Isolate and Partition, and CutOneWay, Delay and Drop: every
// member can reach every other again, at full speed. It returns once the
// running members agree on one raft leader.
func (c *Cluster) Heal() error {
	l, err := c.local("Heal")
	if err != nil {
		return err
	}
	l.faults.Clear()
	l.enforce()
	return l.settle(context.Background(), "Heal")
}

func (l *local) partition(groups []int) error {
	if !partitionsSupported {
		return errors.New("etcdtest: network partitions need to know who opened each peer connection: from Linux's /proc, or from lsof where there is none; put lsof on PATH")
	}
	l.faults.Update(func(f *netfault.Faults) *netfault.Faults { return f.WithGroups(groups) })
	l.enforce()
	return nil
}

// enforce has every peer proxy apply the current faults to the connections
// it holds.
func (l *local) enforce() {
	l.madeNet.Note(l.networkFaults() != "")
	for _, m := range l.members() {
		m.proxy.Enforce()
	}
}

// Delay adds latency d to every peer message sent or received by the given
// members (every member when none are given): each chunk of raft traffic on
// a route that touches one of them is delivered d after the proxy read it,
// in order, in each direction, so a round trip between two members grows by
// 2d. Connection setup is not delayed. A route's latency is the larger of its
// two members' settings; Delay(0, ...) removes it for those members and
// Heal for all. It returns at once: latency churns elections rather than
// settling into a new state, so it does not wait for a leader.
//
// Latency above the cluster's ElectionTimeout makes followers time out
// before the leader's heartbeats arrive: expect repeated elections.
func (c *Cluster) Delay(d time.Duration, members ...int) error {
	const op = "Delay"
	l, err := c.local(op)
	if err != nil {
		return err
	}
	if d < 0 {
		return fmt.Errorf("etcdtest: Delay(%v): latency must not be negative; use 0 to remove it", d)
	}
	targets, err := l.netFaultTargets(op, members)
	if err != nil {
		return err
	}
	l.faults.Update(func(f *netfault.Faults) *netfault.Faults { return f.WithDelay(d, targets...) })
	l.enforce()
	return nil
}

// Drop loses the given fraction of the peer traffic sent or received by the
// given members (every member when none are given): rate 0.3 loses about
// 30% of the chunks of raft traffic on routes touching them, 1 loses all, 0
// removes the fault for those members (Heal removes it for all). A route's
// rate is the larger of its two members' settings.
//
// A lost chunk takes its TCP connection with it: the proxy discards it and
// closes the connection both ways, and the members reconnect. This is what
// loss amounts to over TCP — connections break and messages in flight are
// gone — without handing etcd half a message to stall on. At rate 1 every
// connection dies on its first chunk: the members are isolated in effect.
// A stream carries heartbeats many times per election timeout, so even a
// small rate breaks streams often and raft falls back to its pipeline.
//
// It returns at once and does not wait for a leader: loss churns elections.
// The shared client stops using members whose traffic is lost entirely.
func (c *Cluster) Drop(rate float64, members ...int) error {
	const op = "Drop"
	l, err := c.local(op)
	if err != nil {
		return err
	}
	if math.IsNaN(rate) || rate < 0 || rate > 1 {
		return fmt.Errorf("etcdtest: Drop(%v): rate must be in [0, 1], the fraction of peer traffic lost (0.3 loses 30%%); use 0 to remove it", rate)
	}
	targets, err := l.netFaultTargets(op, members)
	if err != nil {
		return err
	}
	l.faults.Update(func(f *netfault.Faults) *netfault.Faults { return f.WithDrop(rate, targets...) })
	l.enforce()
	l.route(l.majority()) // the shared client avoids members lost entirely
	return nil
}

// CutOneWay stops the messages of the members in from reaching the members
// in to, while messages the other way still flow: a one-way partition.
// For example CutOneWay([]int{leader}, others) silences the raft leader —
// it still hears the others, they no longer hear it — and the others elect
// a new leader. A member in both lists keeps talking to itself. Cuts add
// up; Heal lifts them all. Like Isolate, it returns once the members that
// still reach each other both ways and form a majority agree on a leader.
func (c *Cluster) CutOneWay(from, to []int) error {
	const op = "CutOneWay"
	l, err := c.local(op)
	if err != nil {
		return err
	}
	if !partitionsSupported {
		return fmt.Errorf("etcdtest: %s needs to know who opened each peer connection: from Linux's /proc, or from lsof where there is none; put lsof on PATH", op)
	}
	if len(from) == 0 || len(to) == 0 {
		return fmt.Errorf("etcdtest: CutOneWay(%v, %v): name members on both sides, e.g. CutOneWay([]int{0}, []int{1, 2}) stops member 0's messages reaching 1 and 2", from, to)
	}
	if err := l.checkIndexes("CutOneWay", slices.Concat(from, to)...); err != nil {
		return err
	}
	var cuts []netfault.Route
	for _, a := range from {
		for _, b := range to {
			if a != b {
				cuts = append(cuts, netfault.Route{From: a, To: b})
			}
		}
	}
	if len(cuts) == 0 {
		return fmt.Errorf("etcdtest: CutOneWay(%v, %v) cuts nothing: a member always reaches itself; name different members on each side", from, to)
	}
	l.faults.Update(func(f *netfault.Faults) *netfault.Faults { return f.WithCut(cuts...) })
	l.enforce()
	return l.settle(context.Background(), op)
}

// netFaultTargets checks the members a Delay or Drop names; none means all.
// Naming members needs the connections attributed to them (Linux); a fault
// on every member does not.
func (l *local) netFaultTargets(op string, members []int) ([]int, error) {
	if len(members) == 0 {
		all := make([]int, len(l.members()))
		for i := range all {
			all[i] = i
		}
		return all, nil
	}
	if !partitionsSupported {
		return nil, fmt.Errorf("etcdtest: %s of chosen members needs to know who opened each peer connection (Linux's /proc, or lsof where there is none: put lsof on PATH); name no members to apply it to all", op)
	}
	if err := l.checkIndexes(op, members...); err != nil {
		return nil, err
	}
	return members, nil
}

// checkIndexes is the one check of member indexes a call takes: each must
// name a member of Members().
func (l *local) checkIndexes(op string, idx ...int) error {
	n := len(l.members())
	for _, i := range idx {
		if i < 0 || i >= n {
			return fmt.Errorf("etcdtest: %s: no member %d; use 0..%d", op, i, n-1)
		}
	}
	return nil
}

// NetworkFaults describes the peer network faults in force, or returns ""
// when every member reaches every other at full speed: the partition, e.g.
// "{node1} | {node2 node3}", then one-way cuts, latency and loss, e.g.
// "node1 -/-> {node2 node3}; delay 200ms {node1}; drop 30% {node2}".
// Against an external cluster it is always "".
func (c *Cluster) NetworkFaults() string {
	l, err := c.local("NetworkFaults")
	if err != nil {
		return ""
	}
	return l.networkFaults()
}

func (l *local) networkFaults() string {
	return l.faults.Load().Describe(func(i int) string {
		if i >= 0 && i < len(l.members()) {
			return l.members()[i].name
		}
		return fmt.Sprintf("member%d", i)
	})
}
