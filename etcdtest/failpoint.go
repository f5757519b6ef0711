package etcdtest

// Failpoints: with Config.Failpoints every member runs etcd built with
// gofail's failpoints and serves gofail's HTTP endpoint on a loopback port
// of its own (GOFAIL_HTTP); these calls are thin over internal/failpoint.
// The toolkit writes a line into the member's log for every arm and clear,
// and one when the process ends by itself with failpoints armed, so the
// log tail of a crashed member names the failpoint that fired.

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/clients"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/failpoint"
)

// portsPerMember is how many loopback ports a member takes: client and
// peer, and gofail's endpoint with Config.Failpoints.
func portsPerMember(cfg Config) int {
	if cfg.Failpoints {
		return 3
	}
	return 2
}

// memberFailpoints is a member's side of Config.Failpoints.
type memberFailpoints struct {
	port  int             // gofail's endpoint; 0 without Config.Failpoints
	armed failpoint.Armed // what this toolkit armed in the current run
}

// HasFailpoints reports whether the cluster's members run etcd with
// failpoints (Config.Failpoints), so Member.Failpoint works on them.
func (c *Cluster) HasFailpoints() bool {
	l, err := c.local("HasFailpoints")
	return err == nil && l.cfg.Failpoints
}

// Failpoints returns every failpoint of the member's etcd and the action
// armed on it, "" when it is not armed:
//
//	fps, err := m.Failpoints(ctx) // {"raftAfterSave": "", "beforeCommit": "panic", ...}
//
// A ctx without a deadline gets Config.CallTimeout.
func (m *Member) Failpoints(ctx context.Context) (map[string]string, error) {
	fp, err := m.failpointClient("Failpoints")
	if err != nil {
		return nil, err
	}
	ctx, cancel := clients.WithDefaultDeadline(ctx, m.c.cfg.CallTimeout)
	defer cancel()
	fps, err := fp.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("etcdtest: Failpoints(%s): %w", m.name, err)
	}
	return fps, nil
}

// Failpoint arms failpoint name of the member with action, in gofail's
// syntax: "panic" (the member's process crashes there), "sleep(100)"
// (milliseconds), "1*panic" (once), "return(…)", "off". It returns once
// armed; the failpoint fires when etcd next reaches that point, which for
// most points needs traffic (a write, a defragmentation, a compaction).
// Wait for a panic with WaitCrash. A name the binary lacks, a malformed
// action, a member that is not running and a cluster without
// Config.Failpoints are errors saying so. A ctx without a deadline gets
// Config.CallTimeout.
func (m *Member) Failpoint(ctx context.Context, name, action string) error {
	op := "Failpoint(" + m.name + ", " + name + ")"
	fp, err := m.failpointClient(op)
	if err != nil {
		return err
	}
	ctx, cancel := clients.WithDefaultDeadline(ctx, m.c.cfg.CallTimeout)
	defer cancel()
	if err := fp.Set(ctx, name, action); err != nil {
		return m.failpointError(ctx, fp, op, name, err)
	}
	m.fp.armed.Set(name, action)
	fmt.Fprintf(m.log, "--- etcdtest: failpoint %s=%s armed on %s ---\n", name, action, m.name)
	return nil
}

// ClearFailpoint disarms failpoint name of the member; clearing one that
// is not armed is not an error. The errors are Failpoint's.
func (m *Member) ClearFailpoint(ctx context.Context, name string) error {
	op := "ClearFailpoint(" + m.name + ", " + name + ")"
	fp, err := m.failpointClient(op)
	if err != nil {
		return err
	}
	ctx, cancel := clients.WithDefaultDeadline(ctx, m.c.cfg.CallTimeout)
	defer cancel()
	if err := fp.Clear(ctx, name); err != nil {
		return m.failpointError(ctx, fp, op, name, err)
	}
	m.fp.armed.Clear(name)
	fmt.Fprintf(m.log, "--- etcdtest: failpoint %s cleared on %s ---\n", name, m.name)
	return nil
}

// WaitCrash waits until the member's process has ended by itself — a
// panic failpoint fired — and the cluster has settled as after Kill, so a
// spec that armed a panic waits for it in one line:
//
//	Expect(m.Failpoint(ctx, "raftAfterSave", "panic")).To(Succeed())
//	_, err := m.Client().Put(ctx, "k", "v") // fails: the member crashed mid-write
//	Expect(m.WaitCrash(ctx)).To(Succeed())
//	Expect(m.Restart(ctx)).To(Succeed())
//
// The member's State is then Exited and its log tail names the failpoints
// that were armed. If ctx ends first, the error names them too; a member
// killed or stopped by a fault method is an error at once.
func (m *Member) WaitCrash(ctx context.Context) error {
	l, err := m.local("WaitCrash")
	if err != nil {
		return err
	}
	m.mu.Lock()
	p := m.proc
	m.mu.Unlock()
	if st := m.State(); st != Running && st != Exited && st != Paused {
		return fmt.Errorf("etcdtest: WaitCrash(%s): it is %s, not running", m.name, st)
	}
	if p != nil {
		select {
		case <-p.done:
		case <-ctx.Done():
			return fmt.Errorf("etcdtest: WaitCrash(%s): still running when %w (armed: %s); a failpoint fires when etcd reaches its point: send the traffic that gets it there", m.name, ctx.Err(), &m.fp.armed)
		}
	}
	if st := m.State(); st != Exited {
		return fmt.Errorf("etcdtest: WaitCrash(%s): it did not crash, it was %s", m.name, st)
	}
	return l.settle(ctx, "WaitCrash("+m.name+")")
}

// failpointClient returns the client of the member's gofail endpoint, or
// why there is none.
func (m *Member) failpointClient(op string) (*failpoint.Client, error) {
	if m.l == nil {
		return nil, fmt.Errorf("%s: %w", op, ErrExternal)
	}
	switch {
	case !m.c.cfg.Failpoints:
		return nil, fmt.Errorf("etcdtest: %s: the cluster runs etcd without failpoints: start it with Config{Failpoints: true}", op)
	case !m.bin.Failpoints || m.fp.port == 0:
		return nil, fmt.Errorf("etcdtest: %s: member %s runs %s, which has no failpoints (Config.MemberVersions or RestartOn gave it a binary of its own)", op, m.name, m.bin.Path)
	}
	if st := m.State(); st != Running {
		return nil, fmt.Errorf("etcdtest: %s: member %s is %s; gofail's endpoint lives in its process: Restart it first", op, m.name, st)
	}
	return failpoint.New("127.0.0.1:" + strconv.Itoa(m.fp.port)), nil
}

// failpointError explains err of op on failpoint name: for a name the
// binary lacks, the closest that exist and how to list them all.
func (m *Member) failpointError(ctx context.Context, fp *failpoint.Client, op, name string, err error) error {
	if !errors.Is(err, failpoint.ErrUnknown) {
		return fmt.Errorf("etcdtest: %s: %w", op, err)
	}
	fps, lerr := fp.List(ctx)
	if lerr != nil {
		return fmt.Errorf("etcdtest: %s: etcd %s has no failpoint %q (list them with Member.Failpoints)", op, m.bin.Version, name)
	}
	return fmt.Errorf("etcdtest: %s: etcd %s has no failpoint %q: %s (Member.Failpoints lists all %d)", op, m.bin.Version, name, failpoint.Hint(fps, name), len(fps))
}

// failpointRun prepares the member's next run: the environment that turns
// gofail's endpoint on, and a fresh account of what is armed (a new
// process has nothing armed). nil without failpoints.
func (m *Member) failpointRun() []string {
	if m.fp.port == 0 || !m.bin.Failpoints {
		return nil
	}
	m.fp.armed.Reset()
	return []string{"GOFAIL_HTTP=127.0.0.1:" + strconv.Itoa(m.fp.port)}
}

// noteExit writes into the log of a member whose process ended by itself
// which failpoints were armed, so its log tail names the one that fired.
func (m *Member) noteExit(p *process) {
	m.mu.Lock()
	unasked := m.proc == p && m.state == Running
	m.mu.Unlock()
	if unasked && m.fp.port != 0 {
		fmt.Fprintf(m.log, "--- etcdtest: %s exited by itself (%v); failpoints armed: %s ---\n", m.name, p.err, &m.fp.armed)
	}
}
