package chaos

// The Failpoint fault: arm one of the failpoints etcd's own robustness
// suite uses (tests/robustness/failpoint) on the targets, drive them to it,
// hold, then restart a member that crashed and clear what did not fire.
// Which failpoint is a function of the step's draws (its amount), so the
// schedule stays a pure function of the seed; it is chosen only on
// clusters with Config.Failpoints.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// drive is what gets a member to a failpoint.
type drive int

const (
	byTraffic drive = iota // raft's loop runs on every heartbeat: nothing to do
	byWrites               // a few writes through the member: save, commit, apply
	byDefrag               // a defragmentation of the member
	byCompact              // writes, then a compaction of the cluster
)

// curatedFailpoint is one failpoint Run may arm, with its action.
type curatedFailpoint struct {
	name, action string
	drive        drive
}

// curatedFailpoints are the storage, raft-send, defragmentation and
// compaction points of etcd's robustness suite, as panics, and the sleeps
// it uses. They exist in 3.5, 3.6 and 3.7. The snapshot points
// (raftBeforeSaveSnap, raftBeforeApplySnap, ...) are left out: a member
// reaches them only when it is sent a raft snapshot, after
// --snapshot-count (10,000) entries it lacks.
var curatedFailpoints = []curatedFailpoint{
	{"raftBeforeSave", "panic", byTraffic},
	{"raftAfterSave", "panic", byTraffic},
	{"raftBeforeLeaderSend", "panic", byTraffic},
	{"raftBeforeFollowerSend", "panic", byTraffic},
	{"beforeCommit", "panic", byWrites},
	{"afterCommit", "panic", byWrites},
	{"commitBeforePreCommitHook", "panic", byWrites},
	{"commitAfterPreCommitHook", "panic", byWrites},
	{"beforeApplyOneEntryNormal", "panic", byWrites},
	{"defragBeforeCopy", "panic", byDefrag},
	{"defragBeforeRename", "panic", byDefrag},
	{"compactBeforeCommitScheduledCompact", "panic", byCompact},
	{"compactAfterCommitScheduledCompact", "panic", byCompact},
	{"compactBeforeSetFinishedCompact", "panic", byCompact},
	{"compactAfterSetFinishedCompact", "panic", byCompact},
	{"compactBeforeCommitBatch", "panic", byCompact},
	{"compactAfterCommitBatch", "panic", byCompact},
	{"raftBeforeSave", "sleep(100)", byTraffic},
	{"raftAfterSave", "sleep(100)", byTraffic},
	{"beforeApplyOneEntryNormal", "sleep(100)", byWrites},
}

// failpointOf is the failpoint a step with draws d arms.
func failpointOf(d draws) curatedFailpoint {
	return curatedFailpoints[min(int(d.amount*float64(len(curatedFailpoints))), len(curatedFailpoints)-1)]
}

// injectFailpoint arms fp on every target, drives them to it, and returns
// the heal: restart each target that crashed, clear it on the others.
func (p *planner) injectFailpoint(ctx context.Context, s *Step, targets []int, fp curatedFailpoint) (healFunc, error) {
	s.Members = append(s.Members, fp.name+"="+fp.action)
	var armed []*etcdtest.Member
	heal := func(ctx context.Context) error {
		var errs []error
		for _, m := range armed {
			errs = append(errs, settleFailpoint(ctx, m, fp.name))
		}
		return errors.Join(errs...)
	}
	for _, i := range targets {
		m := p.c.Member(i)
		if err := m.Failpoint(ctx, fp.name, fp.action); err != nil {
			if m.State() == etcdtest.Exited { // an earlier target's arm already cost this one
				armed = append(armed, m)
				continue
			}
			return heal, err
		}
		armed = append(armed, m)
	}
	for _, m := range armed {
		p.driveTo(ctx, m, fp.drive)
	}
	return heal, nil
}

// driveTo sends m the traffic that reaches a failpoint of kind d. Errors
// are expected (the member crashes on the way) and dropped: whether the
// point fired is read from the member's state at the heal.
func (p *planner) driveTo(ctx context.Context, m *etcdtest.Member, d drive) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if d == byWrites || d == byCompact {
		for i := range 3 {
			if m.State() != etcdtest.Running {
				return
			}
			_ = m.Key(fmt.Sprintf("/etcdtest-chaos/failpoint/%d", i)).Put(ctx, "drive")
		}
	}
	switch d {
	case byDefrag:
		_ = m.Defragment(ctx)
	case byCompact:
		_, _ = p.c.Compact(ctx)
	}
}

// settleFailpoint ends a failpoint step on m: a member that crashed is
// restarted, on one that runs the failpoint is cleared (and if it fires
// in between, the member is restarted after all).
func settleFailpoint(ctx context.Context, m *etcdtest.Member, name string) error {
	if m.State() == etcdtest.Running {
		err := m.ClearFailpoint(ctx, name)
		if err == nil || m.State() == etcdtest.Running {
			return err
		}
	}
	if m.State() == etcdtest.Exited {
		return restart(ctx, m)
	}
	return nil
}
