package etcdtest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
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
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		if l, err := l.leader(ctx); err == nil {
			fmt.Fprintf(&b, "  raft leader: %s\n", l.name)
		} else {
			fmt.Fprintf(&b, "  raft leader: none (%v)\n", err)
		}
		cancel()
	}
	if f := l.networkFaults(); f != "" {
		fmt.Fprintf(&b, "  network faults: %s\n", f)
	}
	for _, m := range l.members() {
		learner := ""
		if m.learner.Load() {
			learner = " learner"
		}
		fmt.Fprintf(&b, "  %s: %s%s, client %s, peer %s\n", m.name, m.State(), learner, m.ClientURL(), m.PeerURL())
	}
	for _, m := range l.members() {
		fmt.Fprintf(&b, "--- last lines of %s's log ---\n%s", m.name, logDigest(m.Logs()))
	}
	return b.String()
}

// harmless are log lines etcd writes on every healthy run, which would
// crowd a failure's log tail and lead its reader astray.
var harmless = []string{
	// etcd 3.7, at every boot, with a stack trace: the storage version is
	// set once the first entry of the leader's term is applied.
	"failed to update storage version",
	"Failed to detect schema version", // 3.6, 3.7: the same, before it
	"Running http and grpc server on single port",
	"simple token is not cryptographically signed",
}

// logDigest is what a failure report shows of a member's log: its last
// warnings and raft leader changes, compacted, then its last lines as etcd
// wrote them, without known-harmless noise. Member.Logs has it all.
func logDigest(logs string) string {
	var kept, warns, leaders []string
	for _, line := range strings.Split(strings.TrimRight(logs, "\n"), "\n") {
		if slices.ContainsFunc(harmless, func(h string) bool { return strings.Contains(line, h) }) {
			continue
		}
		kept = append(kept, line)
		var e struct{ Level, Ts, Msg string }
		if json.Unmarshal([]byte(line), &e) != nil || e.Msg == "" {
			continue
		}
		short := e.Ts
		if t, err := time.Parse(time.RFC3339Nano, e.Ts); err == nil {
			short = t.Format("15:04:05.000")
		}
		switch {
		case e.Level == "warn" || e.Level == "error" || e.Level == "panic" || e.Level == "fatal":
			warns = append(warns, fmt.Sprintf("    %s %s %s", short, strings.ToUpper(e.Level), e.Msg))
		case strings.Contains(e.Msg, "elected leader") || strings.Contains(e.Msg, "lost leader") || strings.Contains(e.Msg, "became leader"):
			leaders = append(leaders, fmt.Sprintf("    %s %s", short, e.Msg))
		}
	}
	var b strings.Builder
	if len(warns) > 0 {
		fmt.Fprintf(&b, "  last warnings (%d in all):\n%s\n", len(warns), strings.Join(warns[max(0, len(warns)-5):], "\n"))
	}
	if len(leaders) > 0 {
		fmt.Fprintf(&b, "  last raft leader changes:\n%s\n", strings.Join(leaders[max(0, len(leaders)-3):], "\n"))
	}
	b.WriteString(proc.Tail(strings.Join(kept, "\n")+"\n", 2000))
	return b.String()
}
