package locker

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// The node reads etcd in two loops and feeds what they find to the machine.
// The watch loop keeps the view of every candidate key current, by one watch
// of the path from a known revision. The confirm loop proves, while this
// node is first in line, that its own key still exists under its live lease.

// watchLoop keeps the view current: it watches the path from the revision
// after rev, resumes after the watch breaks, and re-reads the path when the
// revisions it missed were compacted away.
func (n *Node) watchLoop(rev int64) {
	defer n.loops.Done()
	backoff := time.NewTimer(0)
	defer backoff.Stop()
	<-backoff.C
	for n.ctx.Err() == nil {
		ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(n.ctx))
		wch := n.client.Watch(ctx, n.keys.Prefix(), clientv3.WithPrefix(), clientv3.WithRev(rev+1), clientv3.WithProgressNotify())
		compacted := false
		for wr := range wch {
			if wr.CompactRevision != 0 {
				compacted = true
				break
			}
			if wr.Err() != nil || wr.Canceled {
				break
			}
			if len(wr.Events) > 0 {
				rev = n.apply(wr.Events)
			} else if wr.IsProgressNotify() && wr.Header.Revision > rev {
				rev = wr.Header.Revision
			}
		}
		cancel()
		if n.ctx.Err() != nil {
			return
		}
		if compacted {
			if r, ok := n.reload(); ok {
				rev = r
				continue
			}
		}
		backoff.Reset(20 * time.Millisecond)
		select {
		case <-n.ctx.Done():
			return
		case <-backoff.C:
		}
	}
}

// reload re-reads the path after a compaction made the watch lose events.
func (n *Node) reload() (int64, bool) {
	ctx, cancel := context.WithTimeout(n.ctx, n.rpcTimeout())
	defer cancel()
	resp, err := n.client.Get(ctx, n.keys.Prefix(), clientv3.WithPrefix())
	if err != nil {
		n.mu.Lock()
		n.lastErr = err
		n.mu.Unlock()
		return 0, false
	}
	entries := n.entries(resp)
	n.step(func(m *machine, now time.Time) { m.load(entries, resp.Header.Revision, now) })
	return resp.Header.Revision, true
}

// apply feeds watch events to the machine, one revision at a time, and
// returns the last revision applied.
func (n *Node) apply(events []*clientv3.Event) int64 {
	var last int64
	n.step(func(m *machine, now time.Time) {
		for i := 0; i < len(events); {
			rev := events[i].Kv.ModRevision
			var changes []keyChange
			for ; i < len(events) && events[i].Kv.ModRevision == rev; i++ {
				if c, ok := n.keyChange(events[i]); ok {
					changes = append(changes, c)
				}
			}
			m.applyRevision(rev, changes, now)
			last = rev
		}
	})
	return last
}

// keyChange says what a watch event did to the election; false for a key
// that is neither a candidate nor a resign marker.
func (n *Node) keyChange(ev *clientv3.Event) (keyChange, bool) {
	key := string(ev.Kv.Key)
	if id, ok := n.keys.Candidate(key); ok {
		if ev.Type == clientv3.EventTypeDelete {
			return keyChange{kind: keyDeleted, entry: entry{id: id}}, true
		}
		return keyChange{kind: keyPut, entry: entryOf(id, ev.Kv.Value, ev.Kv.CreateRevision, ev.Kv.ModRevision, ev.Kv.Lease)}, true
	}
	if id, ok := n.keys.Resigned(key); ok && ev.Type == clientv3.EventTypePut {
		return keyChange{kind: keyResigned, entry: entry{id: id, createRev: markerRevision(ev.Kv.Value)}}, true
	}
	return keyChange{}, false
}

// entries are the candidate keys of a read of the path.
func (n *Node) entries(resp *clientv3.GetResponse) []entry {
	var out []entry
	for _, kv := range resp.Kvs {
		if id, ok := n.keys.Candidate(string(kv.Key)); ok {
			out = append(out, entryOf(id, kv.Value, kv.CreateRevision, kv.ModRevision, kv.Lease))
		}
	}
	return out
}

func entryOf(id string, value []byte, createRev, modRev, lease int64) entry {
	return entry{id: id, value: string(value), createRev: createRev, modRev: modRev, lease: clientv3.LeaseID(lease)}
}

// confirmLoop proves, while this node is first in line, that its key still
// exists under its live lease: a linearizable read every proofInterval. The
// node believes for beliefWindow after *sending* a read that proved it, so
// what keeps the belief alive is how recently the last answered read was
// sent. The reads go out on that schedule whether or not the previous one
// has been answered: waiting for each answer before sending the next would
// let two slow round trips in a row (a raft leader election, a slow link)
// end the belief although every read succeeded — a lapse, a spurious
// deselect for the user's code — and, through a client on several members,
// one read stuck on a frozen member would hold up the next that the
// balancer sends elsewhere. At most maxProofs reads are in flight; each
// gives up after beliefWindow, when its answer could no longer prove
// anything.
func (n *Node) confirmLoop() {
	defer n.loops.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	answers := make(chan proofOutcome, maxProofs) // never blocks a read: at most maxProofs are in flight
	inFlight := 0
	next := time.Now() // when the next read is due
	for {
		n.mu.Lock()
		candidate, rev, lease := n.state.candidate(), n.state.own, n.state.lease.id
		n.mu.Unlock()
		wait := time.Hour
		if candidate {
			now := time.Now()
			if !now.Before(next) && inFlight < maxProofs {
				inFlight++
				n.loops.Add(1)
				go func() {
					defer n.loops.Done()
					answers <- n.confirm(rev, lease)
				}()
				next = now.Add(proofInterval)
			}
			if inFlight < maxProofs {
				wait = max(next.Sub(now), 0)
			} // else an answer wakes the loop
		}
		timer.Reset(wait)
		select {
		case <-n.ctx.Done():
			return
		case <-n.kickConfirm: // a proof would elect this node now, or its key is new
			next = time.Now()
		case <-timer.C:
		case o := <-answers:
			inFlight--
			switch o {
			case proofAgain:
				next = time.Now()
			case proofFailed:
				if t := time.Now().Add(10 * time.Millisecond); t.Before(next) {
					next = t
				}
			}
		}
	}
}

// proofInterval is how often the first node in line proves its key: four
// reads per belief window, so that up to three in a row may be lost or late
// before the belief lapses.
const proofInterval = beliefWindow / 4

// maxProofs bounds the reads in flight: more could not be answered in time
// to prove anything, since each gives up after beliefWindow.
const maxProofs = 4

type proofOutcome int

const (
	proofDone   proofOutcome = iota // answered and fed to the machine
	proofAgain                      // the node's key changed meanwhile: read again now
	proofFailed                     // no answer: read again soon
)

// confirm reads this node's key, created at rev under lease, and feeds the
// answer to the machine.
func (n *Node) confirm(rev int64, lease clientv3.LeaseID) proofOutcome {
	sent := time.Now()
	ctx, cancel := context.WithTimeout(n.ctx, beliefWindow)
	resp, err := n.client.Get(clientv3.WithRequireLeader(ctx), n.Key())
	cancel()
	if err != nil {
		n.step(func(*machine, time.Time) { n.lastErr = err })
		return proofFailed
	}
	var found entry
	ok := len(resp.Kvs) == 1
	if ok {
		kv := resp.Kvs[0]
		found = entryOf(n.id, kv.Value, kv.CreateRevision, kv.ModRevision, kv.Lease)
	}
	again := false
	n.step(func(m *machine, now time.Time) { again = m.proof(rev, lease, sent, found, ok, now) })
	if again {
		return proofAgain
	}
	return proofDone
}
