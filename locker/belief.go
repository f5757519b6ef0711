package locker

import (
	"context"
	"slices"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// A node believes it is elected only while all of these hold:
//   - it is in the election and not changing its own key;
//   - its key is the first under the path in its view, with the create
//     revision and lease it created it with;
//   - a read of its key sent less than beliefWindow ago found it so, and the
//     last successful keep-alive was sent less than the granted TTL ago;
//   - notBefore has passed (see beliefWindow).
// The view can lag etcd but never shows a key first that is not: keys are
// only ever added behind the existing ones, and deletions are final.

func (n *Node) candidateLocked() bool {
	if n.closed || !n.joined || n.resigning || n.updating || n.myRev == 0 {
		return false
	}
	e, ok := n.firstLocked()
	return ok && e.id == n.id && e.createRev == n.myRev && e.lease == n.lease
}

func (n *Node) beliefDeadlineLocked() time.Time {
	d := n.confirmedAt.Add(beliefWindow)
	if n.leaseDeadline.Before(d) {
		d = n.leaseDeadline
	}
	return d
}

// evaluateLocked brings the node's belief up to date and arms the timer for
// the next instant it may change without any event.
func (n *Node) evaluateLocked() {
	now := time.Now()
	should := n.candidateLocked() && !now.Before(n.notBefore) && now.Before(n.beliefDeadlineLocked())
	switch {
	case n.elected && !should:
		n.deselectLocked()
	case !n.elected && should:
		n.selectLocked()
	}
	var next time.Time
	switch {
	case n.elected:
		next = n.beliefDeadlineLocked()
	case n.candidateLocked() && now.Before(n.notBefore):
		next = n.notBefore
	}
	if !next.IsZero() && n.timer != nil {
		n.timer.Reset(next.Sub(now))
	}
	// Ask for a proof only when one would elect this node now: not while it
	// waits for notBefore (the timer evaluates again then), nor while its
	// last proof is fresh (what it lacks then is a keep-alive). Otherwise the
	// confirm loop, which evaluates after every read, would read nonstop.
	if n.candidateLocked() && !n.elected && !now.Before(n.notBefore) && !now.Before(n.confirmedAt.Add(beliefWindow)) {
		n.kick(n.kickConfirm)
	}
}

func (n *Node) onTimer() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.evaluateLocked()
}

func (n *Node) selectLocked() {
	e, _ := n.firstLocked()
	ctx, cancel := context.WithCancel(context.Background())
	n.elected = true
	n.selected = Leader{ID: e.id, Value: e.value, Revision: e.createRev}
	n.selCancel = cancel
	n.historyLocked(EventSelected, e.id, e.value, e.createRev)
	fns := slices.Clone(n.onSelect)
	value := e.value
	n.enqueueLocked(func() {
		for _, fn := range fns {
			if ctx.Err() != nil {
				return
			}
			fn(ctx, value)
		}
	})
}

func (n *Node) deselectLocked() {
	n.elected = false
	n.selCancel()
	n.selCancel = nil
	n.historyLocked(EventDeselected, n.selected.ID, n.selected.Value, n.selected.Revision)
}

// selectCtxLocked returns a context that ends with the current election.
func (n *Node) selectCtxLocked() (context.Context, string) {
	ctx, cancel := context.WithCancel(context.Background())
	prev := n.selCancel
	n.selCancel = func() { prev(); cancel() }
	return ctx, n.selected.Value
}

// confirmLoop proves, while this node is first in line, that its key still
// exists under its live lease: a linearizable read every beliefWindow/4. The
// node believes for beliefWindow after sending a read that proved it.
func (n *Node) confirmLoop() {
	defer n.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		n.mu.Lock()
		candidate, rev, lease := n.candidateLocked(), n.myRev, n.lease
		n.mu.Unlock()
		wait := time.Hour
		if candidate {
			wait = beliefWindow / 4
			sent := time.Now()
			ctx, cancel := context.WithTimeout(n.ctx, beliefWindow/2)
			resp, err := n.client.Get(clientv3.WithRequireLeader(ctx), n.key)
			cancel()
			n.mu.Lock()
			switch {
			case err != nil:
				n.lastErr = err
				wait = 10 * time.Millisecond
			case n.myRev != rev || n.lease != lease || n.resigning || n.updating:
				// changed under us: look again
				wait = 0
			case len(resp.Kvs) == 1 && resp.Kvs[0].CreateRevision == rev && resp.Kvs[0].Lease == int64(lease):
				if sent.After(n.confirmedAt) {
					n.confirmedAt = sent
				}
			default:
				n.lostLocked("key gone or replaced")
			}
			n.evaluateLocked()
			n.mu.Unlock()
		}
		timer.Reset(wait)
		select {
		case <-n.ctx.Done():
			return
		case <-n.kickConfirm:
		case <-timer.C:
		}
	}
}
