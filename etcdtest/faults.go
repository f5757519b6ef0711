package etcdtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrExternal is returned by fault methods against an external cluster
// ($ETCDTEST_ENDPOINTS): the toolkit does not own those processes.
var ErrExternal = errors.New("etcdtest: not available against an external cluster ($ETCDTEST_ENDPOINTS is set)")

// Isolate cuts member i off from every peer, in both directions. Clients
// still reach it. It returns once the others agree on a raft leader among
// themselves: if member i led, they have elected a new one (see NoSettle).
// Heal undoes it.
func (c *Cluster) Isolate(i int) error {
	if err := c.checkLocal("Isolate"); err != nil {
		return err
	}
	if i < 0 || i >= len(c.members) {
		return fmt.Errorf("etcdtest: Isolate(%d): no such member; use 0..%d", i, len(c.members)-1)
	}
	groups := make([]int, len(c.members))
	groups[i] = 1
	if err := c.setGroups(groups); err != nil {
		return err
	}
	return c.settle(context.Background(), "Isolate")
}

// Partition splits the members into groups: only members in the same group
// can talk to each other (raft, snapshots, lease forwarding: all peer
// traffic). Members listed in no group form one more group together. For
// example Partition([]int{0}, []int{1, 2}) cuts member 0 off from 1 and 2.
// It returns once the group holding a majority, if any, agrees on a raft
// leader within itself (see NoSettle).
func (c *Cluster) Partition(groups ...[]int) error {
	if err := c.checkLocal("Partition"); err != nil {
		return err
	}
	g := make([]int, len(c.members))
	for i := range g {
		g[i] = -1
	}
	for gi, group := range groups {
		for _, i := range group {
			if i < 0 || i >= len(c.members) {
				return fmt.Errorf("etcdtest: Partition: no member %d; use 0..%d", i, len(c.members)-1)
			}
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
	if err := c.setGroups(g); err != nil {
		return err
	}
	return c.settle(context.Background(), "Partition")
}

// Heal undoes Isolate and Partition, and CutOneWay, Delay and Drop: every
// member can reach every other again, at full speed. It returns once the
// running members agree on one raft leader.
func (c *Cluster) Heal() error {
	if err := c.checkLocal("Heal"); err != nil {
		return err
	}
	if err := c.setGroups(nil); err != nil {
		return err
	}
	return c.settle(context.Background(), "Heal")
}

func (c *Cluster) setGroups(groups []int) error {
	if groups != nil && !partitionsSupported {
		return errors.New("etcdtest: network partitions need Linux (connections are attributed to members through /proc)")
	}
	c.faultMu.Lock()
	c.groups = groups
	if groups == nil {
		c.storeNetFaults(nil) // Heal lifts delay, loss and one-way cuts too
	}
	c.faultMu.Unlock()
	for _, m := range c.members {
		m.proxy.cut()
	}
	return nil
}

// linkAllowed reports whether connection pc may reach member to.
func (c *Cluster) linkAllowed(pc *proxyConn, to int) bool {
	c.faultMu.Lock()
	groups := c.groups
	c.faultMu.Unlock()
	if groups == nil {
		return true
	}
	from := pc.sender(c)
	if from < 0 {
		// Only members dial peer URLs. One that cannot be told apart is
		// refused while a partition stands: a partition must not leak, and
		// a refused peer connection is retried by etcd at once.
		return false
	}
	// Only the partition decides about whole connections: a one-way cut
	// keeps the other direction of a connection (netfaults.go).
	return groups[from] == groups[to]
}

// linkOpen reports whether member from's raft messages reach member to
// under the current network faults: not partitioned apart, not cut one way,
// not lost entirely (Drop 1). Latency delays messages but they arrive.
// Settling (settle.go) reasons with it.
func (c *Cluster) linkOpen(from, to int) bool {
	c.faultMu.Lock()
	groups := c.groups
	c.faultMu.Unlock()
	return (groups == nil || groups[from] == groups[to]) && c.netf.Load().reaches(from, to)
}

// Partitioned describes the peer network faults in force, or returns ""
// when every member reaches every other at full speed: the partition, e.g.
// "{node1} | {node2 node3}", then one-way cuts, latency and loss, e.g.
// "node1 -/-> {node2 node3}; delay 200ms {node1}; drop 30% {node2}".
func (c *Cluster) Partitioned() string {
	c.mustBeStarted()
	var parts []string
	for _, s := range []string{c.partitionString(), c.netFaultString()} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "; ")
}

// partitionString describes the current partition, or "" when there is none.
func (c *Cluster) partitionString() string {
	c.faultMu.Lock()
	groups := c.groups
	c.faultMu.Unlock()
	if groups == nil {
		return ""
	}
	byGroup := map[int][]string{}
	max := 0
	for i, g := range groups {
		byGroup[g] = append(byGroup[g], c.members[i].name)
		if g > max {
			max = g
		}
	}
	var parts []string
	for g := 0; g <= max; g++ {
		if len(byGroup[g]) > 0 {
			parts = append(parts, "{"+strings.Join(byGroup[g], " ")+"}")
		}
	}
	return strings.Join(parts, " | ")
}
