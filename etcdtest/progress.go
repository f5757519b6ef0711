package etcdtest

// A Ginkgo progress report (a spec slower than --poll-progress-after, a
// SIGINFO or SIGUSR1, a timeout) shows what the spec is doing; this adds
// what its clusters are doing: each live cluster's raft leader, member
// states and the network faults in force. It is the compact part of
// Diagnostics, without log tails: a progress report can come every few
// seconds. It must never hang the report it is part of — the cluster may
// be the very thing that hangs — so every cluster is asked at once and
// whatever has not answered within progressBound is reported as silent.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
)

// progressBound bounds the whole progress section, all clusters together.
// Ginkgo gives its reporters 5 s in all by default; this stays well inside.
const progressBound = time.Second

// Attached once when the package loads, like the failure hook in ginkgo.go:
// clusters launched at run time (Launch in BeforeEach) are covered without
// touching Ginkgo's node tree. It returns "" — which Ginkgo leaves out —
// when no cluster is live, and is never called outside a Ginkgo suite.
var _ = ginkgo.AttachProgressReporter(progressReport)

// progressReport describes every live cluster of this process in a few lines.
func progressReport() string {
	clusters := liveClusters()
	if len(clusters) == 0 {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), progressBound)
	defer cancel()
	lines := make([]chan string, len(clusters))
	for i, c := range clusters {
		lines[i] = make(chan string, 1)
		go func() { lines[i] <- c.progress(ctx) }()
	}
	var b strings.Builder
	for i, ch := range lines {
		name := "etcd cluster"
		if len(clusters) > 1 {
			name = fmt.Sprintf("etcd cluster %d of %d", i+1, len(clusters))
		}
		select {
		case s := <-ch:
			fmt.Fprintf(&b, "%s: %s", name, s)
		case <-ctx.Done():
			fmt.Fprintf(&b, "%s: no answer within %v (the test process itself may be stuck on it)\n", name, progressBound)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// progress is the cluster's few lines of a progress report.
func (c *Cluster) progress(ctx context.Context) string {
	p := c.b.Load()
	if p == nil {
		return "not started\n"
	}
	switch b := (*p).(type) {
	case *local:
		return b.progress(ctx)
	default:
		return strings.TrimPrefix(b.diagnostics(), "etcdtest: ")
	}
}

func (l *local) progress(ctx context.Context) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%x (etcd %s), ", l.id, l.bin.Version)
	if isDone(l.stopped) {
		b.WriteString("stopped\n")
		return b.String()
	}
	qctx, cancel := context.WithTimeout(ctx, progressBound/2)
	leader, err := l.leader(qctx)
	cancel()
	if err == nil {
		fmt.Fprintf(&b, "raft leader %s\n", leader.name)
	} else {
		fmt.Fprintf(&b, "raft leader: none (%v)\n", strings.TrimPrefix(err.Error(), "etcdtest: "))
	}
	var states []string
	for _, m := range l.members() {
		s := m.name + " " + m.State().String()
		if m.learner.Load() {
			s += " (learner)"
		}
		states = append(states, s)
	}
	fmt.Fprintf(&b, "  members: %s\n", strings.Join(states, ", "))
	if f := l.networkFaults(); f != "" {
		fmt.Fprintf(&b, "  network faults: %s\n", f)
	}
	if f := l.linkFaults(); f != "" {
		fmt.Fprintf(&b, "  client links: %s\n", f)
	}
	return b.String()
}

// linkFaults describes the faults in force on the cluster's ClientLinks,
// "" when none has any.
func (l *local) linkFaults() string {
	l.linkMu.Lock()
	links := append([]*ClientLink(nil), l.links...)
	l.linkMu.Unlock()
	var parts []string
	for i, k := range links {
		if f := k.NetworkFaults(); f != "" {
			parts = append(parts, fmt.Sprintf("link %d (%s): %s", i+1, strings.Join(k.Endpoints(), ","), f))
		}
	}
	return strings.Join(parts, "; ")
}
