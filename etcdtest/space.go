package etcdtest

// Space: the backend quota (Config.QuotaBytes), driving a cluster into
// NOSPACE, and the recovery operators run in production.
//
// etcd refuses a write when the member's backend (its bbolt file, counted
// up to its last used page) plus the write's estimated cost would reach the
// quota; the member then raises the cluster-wide NOSPACE alarm, and while
// the alarm stands every member refuses Puts, Txns with a Put and lease
// grants ("etcdserver: mvcc: database space exceeded"), and still serves
// reads and deletes. Neither compaction nor defragmentation lifts the
// alarm: it stays until disarmed. So the production recovery is three
// steps in order — compact the history, defragment every member (which is
// what shrinks a backend: compaction only frees pages inside the file),
// disarm — and a member that misses the defragmentation raises the alarm
// again at the next write. RecoverSpace is those steps; Compact and
// Member.Defragment are two of them on their own.
//
// Every call here returns once its effect is visible, as the fault methods
// do: ExhaustSpace once the alarm is listed and writes through every member
// of the majority are refused; RecoverSpace once writes through every
// member are accepted again and no alarm is left. Writes are checked with a
// transaction whose condition never holds and whose branch is a Put: etcd
// charges it against the quota and refuses it under the alarm like any
// write, but it changes no key and no revision.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/clients"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/quota"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// MinQuotaBytes is the smallest Config.QuotaBytes Start accepts: 256 KiB.
// etcd itself takes any quota (0 means its default, 2 GiB; a negative one
// turns the quota off), but a fresh backend already holds 20-40 KiB
// (measured on 3.4 to 3.7) and compaction writes before it frees, so below a
// few hundred KiB the cluster runs out of space on its own bookkeeping and
// a spec cannot tell its own writes from etcd's.
const MinQuotaBytes = 256 << 10

// maxExhaustBytes is the largest quota ExhaustSpace fills: 16 MiB, under a
// second of writes on 2 cores (64 MiB took 3-5 s) and 3 × 16 MiB of tmpfs.
const maxExhaustBytes = 16 << 20

// spaceTimeout bounds each call here when its context has no deadline.
const spaceTimeout = 30 * time.Second

// spaceKey is the key ExhaustSpace overwrites until etcd refuses; it is
// deleted before ExhaustSpace returns.
const spaceKey = "etcdtest-exhaust-space"

// validateQuota checks Config.QuotaBytes; withDefaults calls it.
func validateQuota(q int64) error {
	switch {
	case q < 0:
		return fmt.Errorf("etcdtest: Config.QuotaBytes is %d: it must not be negative (0 means etcd's default, 2 GiB; etcd reads a negative quota as no quota at all: "+
			"for that pass \"--quota-backend-bytes=-1\" in Config.ExtraFlags)", q)
	case q > 0 && q < MinQuotaBytes:
		return fmt.Errorf("etcdtest: Config.QuotaBytes is %d: the smallest usable quota is %d bytes (etcdtest.MinQuotaBytes, 256 KiB), since a fresh etcd backend already takes 20-40 KiB; "+
			"use at least that, e.g. 1 << 20 for a cluster that runs out of space quickly", q, MinQuotaBytes)
	}
	return nil
}

// ExhaustSpace writes until etcd runs out of space: it returns once the
// cluster has raised the NOSPACE alarm and every member of the majority
// refuses writes with etcd's own error, rpctypes.ErrNoSpace ("etcdserver:
// mvcc: database space exceeded"), as a production cluster whose backend
// is full does. Reads and deletes still work; RecoverSpace undoes it.
//
// It needs a small Config.QuotaBytes (at most 16 MiB; 1 MiB fills in
// about 0.15 s, 8 MiB in 0.4 s): with etcd's default of 2 GiB it returns an
// error saying so, at once.
// It overwrites one key of its own, "etcdtest-exhaust-space", with values of
// QuotaBytes/16 (4 KiB to 512 KiB), and deletes it before returning: the
// keyspace is as it was, while the key's revisions fill the backend until a
// compaction, as a real workload's history would. Writes are bounded in
// number (4 × the quota's worth, and a few hundred more for the backend's
// commit interval) and in time by ctx, or 30 s when ctx has no deadline.
// Against an external cluster it returns an error wrapping ErrExternal.
func (c *Cluster) ExhaustSpace(ctx context.Context) error {
	l, err := c.local("ExhaustSpace")
	if err != nil {
		return err
	}
	limit := l.cfg.QuotaBytes
	switch {
	case limit == 0:
		return errors.New("etcdtest: ExhaustSpace: Config.QuotaBytes is 0, so etcd's default quota of 2 GiB applies, which takes too long to fill in a spec: " +
			"set Config.QuotaBytes, e.g. 1 << 20 (1 MiB fills in about 0.15 s)")
	case limit > maxExhaustBytes:
		return fmt.Errorf("etcdtest: ExhaustSpace: Config.QuotaBytes is %d, more than the %d bytes (16 MiB) ExhaustSpace fills quickly: "+
			"set a smaller Config.QuotaBytes, e.g. 1 << 20", limit, maxExhaustBytes)
	}
	ctx, cancel := clients.WithDefaultDeadline(ctx, spaceTimeout)
	defer cancel()
	written, err := quota.Fill(ctx, l.client, spaceKey, limit)
	if errors.Is(err, quota.ErrStillAccepts) {
		return fmt.Errorf("etcdtest: ExhaustSpace: %v (%d bytes) under Config.QuotaBytes %d: "+
			"does a --quota-backend-bytes in Config.ExtraFlags override it?", err, written, limit)
	}
	if err != nil {
		return fmt.Errorf("etcdtest: ExhaustSpace: %w (%d bytes so far)", err, written)
	}
	// The member whose apply hit the quota raises the alarm after it
	// answered the write; wait until it stands.
	if err := l.waitAlarms(ctx, "ExhaustSpace", true); err != nil {
		return err
	}
	for _, m := range voters(l.majority()) {
		err := quota.Probe(ctx, m.client, spaceKey)
		if err == nil {
			return fmt.Errorf("etcdtest: ExhaustSpace: the NOSPACE alarm is raised but %s still accepts writes", m.name)
		}
		if !errors.Is(err, rpctypes.ErrNoSpace) {
			return fmt.Errorf("etcdtest: ExhaustSpace: check that %s refuses writes: %w", m.name, err)
		}
	}
	return nil
}

// RecoverSpace runs the production recovery from NOSPACE in one call:
// Compact to the current revision, Defragment every member, then disarm
// every alarm. It returns once every member accepts writes again and the
// cluster lists no alarm.
//
// Every voting member must be running and connected (removed members and
// learners are left out: etcd refuses a learner every maintenance call): a
// member that is paused, down or cut off by a network fault cannot be
// defragmented, and would raise the alarm again at the first write it
// applies. RecoverSpace checks
// that first and returns an error naming the member and the fix (Resume,
// Restart or Heal), at once and having changed nothing. To recover
// around such a member on purpose, call Compact, Defragment on the members
// you choose, and Client().AlarmDisarm(ctx, &clientv3.AlarmMember{}).
//
// If live data itself fills the quota, compaction and defragmentation
// cannot help: RecoverSpace says so, naming the member's backend size and
// the quota, and leaves the alarm raised. ctx bounds it; without a deadline,
// 30 s. Against an external cluster it returns an error wrapping
// ErrExternal.
func (c *Cluster) RecoverSpace(ctx context.Context) error {
	l, err := c.local("RecoverSpace")
	if err != nil {
		return err
	}
	members := voters(c.Members())
	for _, m := range members {
		if st := m.State(); st != Running {
			return fmt.Errorf("etcdtest: RecoverSpace: %s is %s: every member must be defragmented, and one that misses it raises NOSPACE again at its next write; %s first "+
				"(or recover around it by hand: Compact, Defragment on the members you choose, then Client().AlarmDisarm)", m.name, st, repair(st))
		}
	}
	if maj := voters(l.majority()); len(maj) != len(members) {
		var cut []string
		for _, m := range members {
			if !slices.Contains(maj, m) {
				cut = append(cut, m.name)
			}
		}
		return fmt.Errorf("etcdtest: RecoverSpace: %s cut off from the others by a network fault: it would not apply the compaction before its defragmentation; Heal first", strings.Join(cut, ", "))
	}
	ctx, cancel := clients.WithDefaultDeadline(ctx, spaceTimeout)
	defer cancel()
	if _, err := c.compact(ctx, l, "RecoverSpace"); err != nil {
		return err
	}
	for _, m := range members {
		if err := m.defragment(ctx, "RecoverSpace"); err != nil {
			return err
		}
	}
	if limit := l.cfg.QuotaBytes; limit > 0 {
		// What compaction could not free is live data: no write would fit.
		for _, m := range members {
			st, err := m.status(ctx)
			if err != nil {
				return fmt.Errorf("etcdtest: RecoverSpace: status of %s after defragmenting it: %w", m.name, err)
			}
			if st.DbSize >= limit {
				return fmt.Errorf("etcdtest: RecoverSpace: %s's backend holds %d bytes after compaction and defragmentation, at or over Config.QuotaBytes %d: "+
					"the live data (keys, leases, users and roles) fills the quota; delete some (Reset deletes every key) or raise Config.QuotaBytes. The NOSPACE alarm stays raised", m.name, st.DbSize, limit)
			}
		}
	}
	if _, err := l.client.AlarmDisarm(ctx, &clientv3.AlarmMember{}); err != nil {
		return fmt.Errorf("etcdtest: RecoverSpace: disarm the alarms: %w", err)
	}
	for _, m := range members {
		if err := quota.Probe(ctx, m.client, spaceKey); err != nil {
			return fmt.Errorf("etcdtest: RecoverSpace: %s still refuses writes after compaction, defragmentation and disarming: %w", m.name, err)
		}
	}
	// A member whose backend is still over the quota refuses the probe
	// when it applies it, and raises the alarm again.
	return l.waitAlarms(ctx, "RecoverSpace", false)
}

// Compact compacts the cluster's history up to its current revision, which
// it returns: every earlier revision is gone (a read at one fails with
// rpctypes.ErrCompacted) and its space is free inside each member's backend,
// for writes to reuse; Member.Defragment gives it back to the file system.
// It returns once the member that served it has compacted physically and
// every member of the majority has applied it; a paused, stopped or cut-off
// member applies it when it returns. ctx bounds it; without a deadline, 30
// s. Against an external cluster it returns an error wrapping ErrExternal:
// other users' history is not the toolkit's to drop.
func (c *Cluster) Compact(ctx context.Context) (int64, error) {
	l, err := c.local("Compact")
	if err != nil {
		return 0, err
	}
	ctx, cancel := clients.WithDefaultDeadline(ctx, spaceTimeout)
	defer cancel()
	return c.compact(ctx, l, "Compact")
}

func (c *Cluster) compact(ctx context.Context, l *local, op string) (int64, error) {
	resp, err := l.client.Get(ctx, spaceKey, clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("etcdtest: %s: read the current revision: %w", op, err)
	}
	rev := resp.Header.Revision
	if _, err := l.client.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil && !errors.Is(err, rpctypes.ErrCompacted) {
		return 0, fmt.Errorf("etcdtest: %s: compact to revision %d: %w", op, rev, err)
	}
	// ErrCompacted: the history was compacted to rev already, which is the
	// effect asked for. A linearizable read through a member returns only
	// once it has applied everything before it, the compaction included.
	for _, m := range voters(l.majority()) {
		if _, err := m.client.Get(ctx, spaceKey, clientv3.WithCountOnly()); err != nil {
			return 0, fmt.Errorf("etcdtest: %s: wait for %s to apply the compaction to revision %d: %w", op, m.name, rev, err)
		}
	}
	return rev, nil
}

// Defragment rewrites the member's backend without its free pages, giving
// the space that compaction freed back to the file system: etcd's quota
// counts the file, so after a compaction only defragmentation makes room
// under it. It returns when the member has finished; its Status shows the
// new DbSize. The member blocks reads and writes while it defragments
// (milliseconds for a test-sized backend). A member that is not running
// (paused, killed, stopped) cannot be defragmented: the error says so at
// once, and which call brings it back. A ctx without a deadline gets
// Config.CallTimeout. Against an external cluster it returns an error
// wrapping ErrExternal.
func (m *Member) Defragment(ctx context.Context) error {
	if _, err := m.local("Defragment"); err != nil {
		return err
	}
	ctx, cancel := clients.WithDefaultDeadline(ctx, m.c.cfg.CallTimeout)
	defer cancel()
	return m.defragment(ctx, "Defragment")
}

func (m *Member) defragment(ctx context.Context, op string) error {
	if st := m.State(); st != Running {
		return fmt.Errorf("etcdtest: %s: %s is %s and cannot be defragmented; %s first", op, m.name, st, repair(st))
	}
	// Over the member client's open connection: clientv3's Defragment
	// dials a new one per call (see Status).
	if _, err := pb.NewMaintenanceClient(m.client.ActiveConnection()).Defragment(ctx, &pb.DefragmentRequest{}); err != nil {
		return fmt.Errorf("etcdtest: %s: defragment %s: %w", op, m.name, rpctypes.Error(err))
	}
	return nil
}

// repair names the call that brings a member in state st back to running.
func repair(st State) string {
	if st == Paused {
		return "Resume it"
	}
	return "Restart it"
}

// voters are the members of ms that vote: neither removed (RemoveMember)
// nor learners, which etcd refuses every request here but Status.
func voters(ms []*Member) []*Member {
	var vs []*Member
	for _, m := range ms {
		if m.votes() {
			vs = append(vs, m)
		}
	}
	return vs
}

// waitAlarms polls the cluster's alarm list (a linearizable read) until a
// NOSPACE alarm stands (raised) or no alarm does (!raised).
func (l *local) waitAlarms(ctx context.Context, op string, raised bool) error {
	var resp *clientv3.AlarmResponse
	var err error
	return poll(ctx, 5*time.Millisecond, func() (bool, error) {
		if resp, err = l.client.AlarmList(ctx); err != nil {
			return false, nil
		}
		nospace := false
		for _, a := range resp.Alarms {
			nospace = nospace || a.Alarm == pb.AlarmType_NOSPACE
		}
		return raised == nospace && (raised || len(resp.Alarms) == 0), nil
	}, func() error {
		if err == nil && raised {
			err = errors.New("no NOSPACE alarm is listed")
		} else if err == nil {
			err = fmt.Errorf("alarms still listed: %s (a member's backend is still over the quota: delete keys or raise Config.QuotaBytes)", l.alarmNames(resp.Alarms))
		}
		return fmt.Errorf("etcdtest: %s: %w (%w)", op, err, context.Cause(ctx))
	})
}

// alarmNames describes alarms as "node1: NOSPACE".
func (l *local) alarmNames(alarms []*pb.AlarmMember) string {
	var s []string
	for _, a := range alarms {
		who := fmt.Sprintf("%x", a.MemberID)
		if m := l.memberByID(a.MemberID); m != nil {
			who = m.name
		}
		s = append(s, who+": "+a.Alarm.String())
	}
	return strings.Join(s, ", ")
}
