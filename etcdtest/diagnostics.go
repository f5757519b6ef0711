package etcdtest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proc"
)

// diagnostics describes a local cluster for Cluster.Diagnostics.
func (l *local) diagnostics() string {
	var b strings.Builder
	fmt.Fprintf(&b, "etcdtest: cluster %x (etcd %s, %d members, data %s)\n", l.id, l.bin.Version, len(l.members()), l.dir)
	if isDone(l.stopped) {
		b.WriteString("  stopped\n")
	} else {
		b.WriteString("  " + l.leaderLine(context.Background(), 500*time.Millisecond))
	}
	if f := l.networkFaults(); f != "" {
		fmt.Fprintf(&b, "  network faults: %s\n", f)
	}
	b.WriteString(l.faultsReport())
	for _, m := range l.members() {
		learner := ""
		if m.learner.Load() {
			learner = " learner"
		}
		fmt.Fprintf(&b, "  %s: %s%s, client %s, peer %s\n", m.name, m.State(), learner, m.ClientURL(), m.PeerURL())
	}
	for _, m := range l.members() {
		fmt.Fprintf(&b, "--- last lines of %s's log ---\n%s", m.name, proc.LogDigest(m.Logs()))
	}
	return b.String()
}
