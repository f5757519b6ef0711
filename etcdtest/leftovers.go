package etcdtest

// Faults outlive the spec that made them unless it undoes them (in
// DeferCleanup). A member's own client refuses calls while its process is
// gone, and Reset and Diagnostics list the faults in force, each with the
// calls that made it (internal/callsite finds the user's line). Reset does
// not repair them: that would hide the spec that forgot its DeferCleanup.

import (
	"errors"
	"fmt"
	"strings"

	"github.com/onsi/ginkgo/v2"

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
		method, m.name, ErrNotRunning, st, m.made.By(), fix)
}

// faultsInForce lists the faults in force, one line each with the calls
// that made it where they are known, and what lifts it.
func (l *local) faultsInForce() []string {
	var lines []string
	for _, m := range l.members() {
		switch st := m.State(); st {
		case Killed, Stopped, Exited:
			lines = append(lines, fmt.Sprintf("%s %s%s; lifted by Member(%d).Restart", m.name, st, m.made.By(), m.index))
		case Paused:
			lines = append(lines, fmt.Sprintf("%s paused%s; lifted by Member(%d).Resume", m.name, m.made.By(), m.index))
		}
	}
	if f := l.networkFaults(); f != "" {
		lines = append(lines, "network "+f+l.madeNet.By()+"; lifted by Cluster.Heal")
	}
	l.linkMu.Lock()
	defer l.linkMu.Unlock()
	for i, k := range l.links {
		if f := k.NetworkFaults(); f != "" {
			lines = append(lines, fmt.Sprintf("ClientLink %d (%s) %s%s; lifted by ClientLink.Heal", i+1, strings.Join(k.Endpoints(), " "), f, k.made.By()))
		}
	}
	return lines
}

// noteLeftovers tells a Ginkgo spec, on its GinkgoWriter, which faults an
// earlier spec left in force on the cluster Reset just emptied.
func (c *Cluster) noteLeftovers() {
	l, err := c.local("Reset")
	if err != nil || !c.ginkgo {
		return
	}
	if lines := l.faultsInForce(); len(lines) > 0 {
		fmt.Fprintf(ginkgo.GinkgoWriter, "etcdtest: Reset emptied the key space, but faults are in force, left by an earlier spec (undo a fault in DeferCleanup where it is made):\n  %s\n",
			strings.Join(lines, "\n  "))
	}
}

// faultsReport is the diagnostics' list of the faults in force, or "".
func (l *local) faultsReport() string {
	if lines := l.faultsInForce(); len(lines) > 0 {
		return "  faults in force, and the calls that made them:\n    " + strings.Join(lines, "\n    ") + "\n"
	}
	return ""
}
