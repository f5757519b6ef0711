package locker

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// The view is every candidate key under the path, kept current by one watch
// from a known revision. The first key (lowest create revision) is the
// leader. Every change of leader or value is delivered to OnChange.

// watchLoop keeps the view current: it watches the path from the revision
// after rev, resumes after the watch breaks, and re-reads the path when the
// revisions it missed were compacted away.
func (n *Node) watchLoop(rev int64) {
	defer n.wg.Done()
	backoff := time.NewTimer(0)
	defer backoff.Stop()
	<-backoff.C
	for n.ctx.Err() == nil {
		ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(n.ctx))
		wch := n.client.Watch(ctx, n.prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1), clientv3.WithProgressNotify())
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
	resp, err := n.client.Get(ctx, n.prefix, clientv3.WithPrefix())
	if err != nil {
		n.mu.Lock()
		n.lastErr = err
		n.mu.Unlock()
		return 0, false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.loadLocked(resp, time.Now())
	return resp.Header.Revision, true
}

// loadLocked replaces the view with a snapshot read at rev. What happened
// between the old view and the snapshot is unknown, so if the first key went
// away it is assumed to have gone without resigning.
func (n *Node) loadLocked(resp *clientv3.GetResponse, now time.Time) {
	old, hadOld := n.firstLocked()
	n.view = viewOf(n.prefix, resp)
	n.viewRev = resp.Header.Revision
	if cur, ok := n.firstLocked(); !hadOld || !ok || cur.createRev != old.createRev {
		n.waitBeliefWindowLocked(now)
	}
	if n.myRev != 0 && !n.resigning {
		if e, ok := n.view[n.id]; !ok || e.createRev != n.myRev {
			n.lostLocked("key gone while the watch was compacted")
		}
	}
	n.emitChangeLocked()
	n.evaluateLocked()
}

// apply applies watch events, one revision at a time, and returns the last
// revision applied.
func (n *Node) apply(events []*clientv3.Event) int64 {
	now := time.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	for i := 0; i < len(events); {
		rev := events[i].Kv.ModRevision
		j := i
		for j < len(events) && events[j].Kv.ModRevision == rev {
			j++
		}
		n.applyRevisionLocked(events[i:j], now)
		i = j
	}
	n.evaluateLocked()
	return n.viewRev
}

func (n *Node) applyRevisionLocked(events []*clientv3.Event, now time.Time) {
	old, hadOld := n.firstLocked()
	resigned := map[string]int64{}
	for _, ev := range events {
		id, rest, isMarker := strings.Cut(strings.TrimPrefix(string(ev.Kv.Key), n.prefix), "/")
		if isMarker {
			if rest == "resigned" && ev.Type == clientv3.EventTypePut {
				r, _ := strconv.ParseInt(string(ev.Kv.Value), 10, 64)
				resigned[id] = r
			}
			continue
		}
		if ev.Type == clientv3.EventTypeDelete {
			e, ok := n.view[id]
			delete(n.view, id)
			if ok && id == n.id && n.myRev != 0 && e.createRev == n.myRev && !n.resigning {
				n.lostLocked("key deleted")
			}
			continue
		}
		kv := ev.Kv
		n.view[id] = entry{id: id, value: string(kv.Value), createRev: kv.CreateRevision, modRev: kv.ModRevision, lease: clientv3.LeaseID(kv.Lease)}
		if id == n.id && n.myRev != 0 && (kv.CreateRevision != n.myRev || clientv3.LeaseID(kv.Lease) != n.lease) && !n.resigning {
			n.lostLocked("key replaced by another client")
		}
	}
	n.viewRev = events[0].Kv.ModRevision
	if cur, ok := n.firstLocked(); hadOld && (!ok || cur.createRev != old.createRev) {
		// The first key is gone. Unless its owner resigned (and so had
		// stopped believing before it deleted it), the owner may not know
		// yet: give it beliefWindow to find out.
		if resigned[old.id] != old.createRev {
			n.waitBeliefWindowLocked(now)
		}
	}
	n.emitChangeLocked()
}

func (n *Node) waitBeliefWindowLocked(now time.Time) {
	if t := now.Add(beliefWindow); t.After(n.notBefore) {
		n.notBefore = t
	}
}

// emitChangeLocked delivers the leader to OnChange if it differs from the
// last one delivered.
func (n *Node) emitChangeLocked() {
	cur, _ := n.leaderLocked()
	if cur.ID == n.emitted.ID && cur.Value == n.emitted.Value {
		return
	}
	n.emitted = cur
	n.historyLocked(EventChanged, cur.ID, cur.Value, cur.Revision)
	fns := slices.Clone(n.onChange)
	n.enqueueLocked(func() {
		for _, fn := range fns {
			fn(cur.Value, cur.ID)
		}
	})
}

func (n *Node) firstLocked() (entry, bool) {
	var first entry
	found := false
	for _, e := range n.view {
		if !found || e.createRev < first.createRev {
			first, found = e, true
		}
	}
	return first, found
}

func (n *Node) leaderLocked() (Leader, bool) {
	e, ok := n.firstLocked()
	if !ok {
		return Leader{}, false
	}
	return Leader{ID: e.id, Value: e.value, Revision: e.createRev}, true
}

// aheadLocked returns the key right before this node's in line, if this
// node has a key and its view shows one before it.
func (n *Node) aheadLocked() (entry, bool) {
	var ahead entry
	found := false
	if n.myRev == 0 {
		return ahead, false
	}
	for _, e := range n.view {
		if e.createRev < n.myRev && (!found || e.createRev > ahead.createRev) {
			ahead, found = e, true
		}
	}
	return ahead, found
}

func viewOf(prefix string, resp *clientv3.GetResponse) map[string]entry {
	view := make(map[string]entry, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		id := strings.TrimPrefix(string(kv.Key), prefix)
		if strings.Contains(id, "/") {
			continue
		}
		view[id] = entry{id: id, value: string(kv.Value), createRev: kv.CreateRevision, modRev: kv.ModRevision, lease: clientv3.LeaseID(kv.Lease)}
	}
	return view
}
