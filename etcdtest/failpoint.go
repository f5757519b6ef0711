package etcdtest

// Failpoints (Config.Failpoints, docs/failpoints.md): each member serves
// gofail's HTTP endpoint on a loopback port of its own (GOFAIL_HTTP); the
// calls here check the member and delegate to internal/failpoint.

import (
	"context"
	"fmt"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/clients"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/failpoint"
)

// HasFailpoints reports whether the cluster's members run etcd with
// failpoints (Config.Failpoints).
func (c *Cluster) HasFailpoints() bool {
	l, err := c.local("HasFailpoints")
	return err == nil && l.cfg.Failpoints
}

// Failpoints returns every failpoint of the member's etcd and the action
// armed on it ("" when not armed). A ctx without a deadline gets
// Config.CallTimeout, as with Failpoint and ClearFailpoint.
func (m *Member) Failpoints(ctx context.Context) (map[string]string, error) {
	var fps map[string]string
	err := m.withFailpoints(ctx, "Failpoints", func(ctx context.Context, fp *failpoint.Member) (err error) {
		fps, err = fp.List(ctx)
		return err
	})
	return fps, err
}

// Failpoint arms failpoint name of the member with action, in gofail's
// syntax ("panic", "sleep(100)", "1*panic", "return(…)", "off"), and
// returns once it is armed. It fires when etcd next reaches that point;
// wait for a panic with WaitCrash. A name the binary lacks, a malformed
// action, a member that is not running and a cluster without
// Config.Failpoints are errors saying what to do.
func (m *Member) Failpoint(ctx context.Context, name, action string) error {
	return m.withFailpoints(ctx, "Failpoint("+m.name+", "+name+")", func(ctx context.Context, fp *failpoint.Member) error {
		return fp.Set(ctx, name, action)
	})
}

// ClearFailpoint disarms failpoint name of the member; clearing one that
// is not armed is not an error.
func (m *Member) ClearFailpoint(ctx context.Context, name string) error {
	return m.withFailpoints(ctx, "ClearFailpoint("+m.name+", "+name+")", func(ctx context.Context, fp *failpoint.Member) error {
		return fp.Clear(ctx, name)
	})
}

// WaitCrash waits until the member's process has ended by itself — a
// panic failpoint fired — and the cluster has settled as after Kill:
//
//	Expect(m.Failpoint(ctx, "raftAfterSave", "panic")).To(Succeed())
//	Expect(m.WaitCrash(ctx)).To(Succeed()) // then m.State() is Exited
//
// If ctx ends first, the error names the failpoints still armed; a member
// that is not running is an error at once.
func (m *Member) WaitCrash(ctx context.Context) error {
	l, err := m.local("WaitCrash")
	if err != nil {
		return err
	}
	m.mu.Lock()
	p := m.proc
	m.mu.Unlock()
	if st := m.State(); p == nil || (st != Running && st != Exited && st != Paused) {
		return fmt.Errorf("etcdtest: WaitCrash(%s): it is %s, not running", m.name, st)
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		return fmt.Errorf("etcdtest: WaitCrash(%s): still running when %w (armed: %s); a failpoint fires when etcd reaches its point: send the traffic that gets it there", m.name, ctx.Err(), m.fp.Armed())
	}
	if st := m.State(); st != Exited {
		return fmt.Errorf("etcdtest: WaitCrash(%s): it did not crash, it was %s", m.name, st)
	}
	return l.settle(ctx, "WaitCrash("+m.name+")")
}

// withFailpoints runs f on the member's failpoints, or says why it has none.
func (m *Member) withFailpoints(ctx context.Context, op string, f func(context.Context, *failpoint.Member) error) error {
	if m.l == nil {
		return fmt.Errorf("%s: %w", op, ErrExternal)
	}
	switch st := m.State(); {
	case !m.c.cfg.Failpoints:
		return fmt.Errorf("etcdtest: %s: the cluster runs etcd without failpoints: start it with Config{Failpoints: true}", op)
	case !m.bin.Failpoints || m.fp.Port == 0:
		return fmt.Errorf("etcdtest: %s: member %s runs %s, which has no failpoints (Config.MemberVersions or RestartOn gave it a binary of its own)", op, m.name, m.bin.Path)
	case st != Running:
		return fmt.Errorf("etcdtest: %s: member %s is %s; gofail's endpoint lives in its process: Restart it first", op, m.name, st)
	}
	ctx, cancel := clients.WithDefaultDeadline(ctx, m.c.cfg.CallTimeout)
	defer cancel()
	if err := f(ctx, &m.fp); err != nil {
		return fmt.Errorf("etcdtest: %s: %w", op, err)
	}
	return nil
}

// portsPerMember is how many loopback ports a member takes: client, peer
// and, with Config.Failpoints, gofail's endpoint.
func portsPerMember(cfg Config) int {
	if cfg.Failpoints {
		return 3
	}
	return 2
}
