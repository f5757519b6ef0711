package etcdtest

// Faults outlive the spec that made them unless it undoes them (in
// DeferCleanup, as the README's habits say). A member's own client refuses
// calls while the toolkit has it killed, stopped or removed, naming the
// call that did it; Reset and the failure diagnostics list every fault in
// force with the call that made it (internal/callsite finds the user's
// line). Reset does not repair them: a repair there would hide the spec
// that forgot its DeferCleanup, and a spec's faults belong to that spec.

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/onsi/ginkgo/v2"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/callsite"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/clients"
)

// ErrNotRunning is wrapped by the error of a call on a member's own client
// (Member.Client, Member.Key) while the member's process is gone: killed,
// stopped, exited or removed. Such a call fails at once instead of waiting
// out Config.CallTimeout. A paused or isolated member is still there, and
// calls on it wait as before.
var ErrNotRunning = errors.New("the member is not running")

// clientsRefuse has m's own client refuse calls while m is not running.
func clientsRefuse(m *Member) { clients.Refuse(m.client, m.refusal) }

// refusal is the answer of m's own client to method while m's process is
// gone, or nil while it runs or is paused.
func (m *Member) refusal(method string) error {
	st := m.State()
	var fix string
	switch st {
	case Killed, Stopped:
		fix = "Restart(ctx) brings it back, and the spec that stops a member restarts it in DeferCleanup"
	case Exited:
		fix = "it ended by itself (see Logs); Restart(ctx) starts it again"
	case Removed:
		fix = "etcd takes no removed member back; AddMember adds a new one"
	default:
		return nil
	}
	return fmt.Errorf("etcdtest: %s on member %s: %w: it is %s%s, so its own client refuses calls (Cluster.Client routes around it); %s",
		method, m.name, ErrNotRunning, st, by(m.faultSite()), fix)
}

// faultNotes remembers the calls that made the network faults in force.
type faultNotes struct {
	mu  sync.Mutex
	net []callsite.Site // since the network was last fault-free
}

// network notes the call changing the network faults; inForce says
// whether any remain after it.
func (n *faultNotes) network(inForce bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !inForce {
		n.net = nil
		return
	}
	if s := callsite.Find(); s.Known() && len(n.net) < 4 {
		n.net = append(n.net, s)
	}
}

func (n *faultNotes) networkSites() []callsite.Site {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]callsite.Site(nil), n.net...)
}

// faultsInForce lists the faults in force, each with the call that made
// it where that is known and what lifts it, one line each.
func (l *local) faultsInForce() []string {
	var lines []string
	for _, m := range l.members() {
		st := m.State()
		if st == Running || st == Removed {
			continue
		}
		fix := "Member(%d).Restart"
		if st == Paused {
			fix = "Member(%d).Resume"
		}
		lines = append(lines, fmt.Sprintf("%s %s%s; lifted by "+fix, m.name, st, by(m.faultSite()), m.index))
	}
	if f := l.networkFaults(); f != "" {
		var calls []string
		for _, s := range l.notes.networkSites() {
			calls = append(calls, s.String())
		}
		from := ""
		if len(calls) > 0 {
			from = " by " + strings.Join(calls, ", ")
		}
		lines = append(lines, "network "+f+from+"; lifted by Cluster.Heal")
	}
	l.linkMu.Lock()
	for i, k := range l.links {
		if f := k.NetworkFaults(); f != "" {
			lines = append(lines, fmt.Sprintf("ClientLink %d (%s) %s%s; lifted by ClientLink.Heal", i+1, strings.Join(k.Endpoints(), " "), f, by(k.site())))
		}
	}
	l.linkMu.Unlock()
	return lines
}

// faultSite returns the call that left m in its state.
func (m *Member) faultSite() callsite.Site {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.site
}

func by(s callsite.Site) string {
	if !s.Known() {
		return ""
	}
	return " by " + s.String()
}

// noteLeftovers tells a Ginkgo spec, on its GinkgoWriter, which faults an
// earlier spec left in force on the cluster Reset just emptied.
func (c *Cluster) noteLeftovers() {
	l, err := c.local("Reset")
	if err != nil || !c.ginkgo {
		return
	}
	if lines := l.faultsInForce(); len(lines) > 0 {
		fmt.Fprintf(ginkgo.GinkgoWriter, "etcdtest: Reset emptied the key space, but faults are in force, left by an earlier spec (undo a fault in DeferCleanup where it is made; see also Cluster.Diagnostics):\n  %s\n",
			strings.Join(lines, "\n  "))
	}
}

// faultsReport is the diagnostics' list of faults in force, or "".
func (l *local) faultsReport() string {
	lines := l.faultsInForce()
	if len(lines) == 0 {
		return ""
	}
	return "  faults in force, and the calls that made them:\n    " + strings.Join(lines, "\n    ") + "\n"
}
