package etcdtest

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Diagnostics describes the cluster compactly for a failure report: the
// raft leader, any partition and other network faults, each member's
// state, and the tail of each member's log.
func (c *Cluster) Diagnostics() string {
	c.mustBeStarted()
	var b strings.Builder
	if c.ext != nil {
		fmt.Fprintf(&b, "etcdtest: external cluster %x, key prefix %q\n", c.id, c.ext.prefix)
		return b.String()
	}
	fmt.Fprintf(&b, "etcdtest: cluster %x (etcd %s, %d members, data %s)\n", c.id, c.bin.version, len(c.members), c.dir)
	if c.Stopped() {
		b.WriteString("  stopped\n")
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		if l, err := c.Leader(ctx); err == nil {
			fmt.Fprintf(&b, "  raft leader: %s\n", l.name)
		} else {
			fmt.Fprintf(&b, "  raft leader: none (%v)\n", err)
		}
		cancel()
	}
	if p := c.partitionString(); p != "" {
		fmt.Fprintf(&b, "  partitioned: %s\n", p)
	}
	if f := c.netFaultString(); f != "" {
		fmt.Fprintf(&b, "  network faults: %s\n", f)
	}
	for _, m := range c.members {
		fmt.Fprintf(&b, "  %s: %s, client %s, peer %s\n", m.name, m.State(), m.ClientURL(), m.PeerURL())
	}
	for _, m := range c.members {
		fmt.Fprintf(&b, "--- last lines of %s's log ---\n%s", m.name, tail(m.Logs(), 2000))
	}
	return b.String()
}
