package locker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The session is this node's lease and its one key, Layout.Key(ID), created
// under the lease in a transaction guarded by "the key does not exist". The
// key's create revision is its place in line. Every change to the key or
// lease holds opMu; what the requests find is fed to the machine by step.

// sessionLoop keeps the node's session in the state the user asked for: in
// the election with a live lease (rejoining after the session is lost), or
// out of it with no key and no lease.
func (n *Node) sessionLoop() {
	defer n.loops.Done()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-n.kickSession:
		case <-timer.C:
		}
		timer.Reset(n.reconcile()) // Go 1.23 timers: Reset never delivers a stale tick
	}
}

// reconcile does what the session needs next and says when to look again.
func (n *Node) reconcile() time.Duration {
	n.opMu.Lock()
	defer n.opMu.Unlock()
	if n.ctx.Err() != nil {
		return time.Hour
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.rpcTimeout())
	defer cancel()

	n.mu.Lock()
	m := n.state
	joined, rev, resigning, lease := m.joined, m.own, m.resigning, m.lease.id
	n.mu.Unlock()
	if !joined {
		if rev != 0 || resigning || lease != 0 {
			if err := n.leave(ctx); err != nil {
				return n.retry(err)
			}
		}
		return time.Hour
	}
	if resigning {
		if err := n.resign(ctx); err != nil {
			return n.retry(err)
		}
	}
	if err := n.join(ctx); err != nil {
		return n.retry(err)
	}
	return n.keepAlive()
}

func (n *Node) retry(err error) time.Duration {
	n.mu.Lock()
	n.lastErr = err
	n.mu.Unlock()
	if errors.Is(err, ErrDuplicateID) {
		return n.ttl / 2
	}
	return 100 * time.Millisecond
}

// keepAlive renews the lease when it is due, and says when the next renewal is.
func (n *Node) keepAlive() time.Duration {
	n.mu.Lock()
	lease := n.state.lease
	n.mu.Unlock()
	if lease.id == 0 {
		return 0
	}
	if wait := time.Until(lease.renewAt); wait > 0 {
		return wait
	}
	sent := time.Now()
	ctx, cancel := context.WithTimeout(n.ctx, lease.granted/3)
	resp, err := n.client.KeepAliveOnce(ctx, lease.id)
	cancel()
	switch {
	case err == nil:
		mine := true
		n.step(func(m *machine, _ time.Time) {
			mine = m.keptAlive(lease.id, time.Duration(resp.TTL)*time.Second, sent)
		})
		if !mine {
			return 0
		}
		return time.Until(sent.Add(time.Duration(resp.TTL) * time.Second / 3))
	case isLeaseNotFound(err):
		n.step(func(m *machine, now time.Time) { m.leaseGone(lease.id, now) })
		return 0
	default:
		n.mu.Lock()
		n.lastErr = fmt.Errorf("locker: keep lease %x alive: %w", lease.id, err)
		n.mu.Unlock()
		return 50 * time.Millisecond
	}
}

// join grants a lease if the node has none and creates its key if it has
// none. opMu is held.
func (n *Node) join(ctx context.Context) error {
	n.mu.Lock()
	lease, rev := n.state.lease.id, n.state.own
	n.mu.Unlock()
	if rev != 0 {
		return nil
	}
	for try := 0; ; try++ {
		if lease == 0 {
			var err error
			if lease, err = n.grant(ctx); err != nil {
				return err
			}
		}
		var err error
		rev, err = n.create(ctx, lease)
		if err == nil {
			break
		}
		// The lease expired since it was last kept alive (create told the
		// machine so): the session was lost under the node, which starts a
		// new one anyway. Do it now, once, rather than fail the Write that
		// asked to join for a loss the node recovers from by itself.
		if !isLeaseNotFound(err) || try > 0 {
			return err
		}
		lease = 0
	}
	n.step(func(m *machine, now time.Time) {
		n.lastErr = nil
		m.created(rev, now)
	})
	kick(n.kickConfirm)
	return nil
}

func (n *Node) grant(ctx context.Context) (clientv3.LeaseID, error) {
	sent := time.Now()
	var resp *clientv3.LeaseGrantResponse
	err := attempt(ctx, func(ctx context.Context) (err error) {
		resp, err = n.client.Grant(ctx, int64(n.ttl/time.Second))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("locker: grant lease for %s: %w", n.Key(), err)
	}
	n.step(func(m *machine, _ time.Time) {
		m.leaseGranted(resp.ID, time.Duration(resp.TTL)*time.Second, sent)
	})
	return resp.ID, nil
}

// create creates this node's key under lease and returns its create
// revision. A key of this ID that is already there is this node's own when
// it is under lease (an earlier attempt succeeded but its answer was lost);
// under a dead lease or none it is stale and is removed; under another live
// lease it is another node's: ErrDuplicateID.
func (n *Node) create(ctx context.Context, lease clientv3.LeaseID) (int64, error) {
	key := n.Key()
	for try := 0; ; try++ {
		n.mu.Lock()
		value := n.state.value
		n.mu.Unlock()
		var resp *clientv3.TxnResponse
		err := attempt(ctx, func(ctx context.Context) (err error) {
			resp, err = n.client.Txn(ctx).
				If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
				Then(clientv3.OpPut(key, value, clientv3.WithLease(lease))).
				Else(clientv3.OpGet(key)).
				Commit()
			return err
		})
		if err != nil {
			if isLeaseNotFound(err) {
				n.step(func(m *machine, now time.Time) { m.leaseGone(lease, now) })
			}
			return 0, fmt.Errorf("locker: create %s: %w", key, err)
		}
		if resp.Succeeded {
			return resp.Header.Revision, nil
		}
		kvs := resp.Responses[0].GetResponseRange().Kvs
		if len(kvs) == 0 {
			continue
		}
		kv := kvs[0]
		if clientv3.LeaseID(kv.Lease) == lease {
			if string(kv.Value) != value {
				if _, err := n.update(ctx, kv.CreateRevision, value, nil); err != nil {
					return 0, fmt.Errorf("locker: create %s: %w", key, err)
				}
			}
			return kv.CreateRevision, nil
		}
		if err := n.removeStale(ctx, kv.Lease, kv.ModRevision, try); err != nil {
			return 0, err
		}
	}
}

// removeStale deletes this node's key found under another lease, unless the
// lease is alive (another node has this ID) or the key changed meanwhile.
func (n *Node) removeStale(ctx context.Context, lease, modRev int64, try int) error {
	alive, err := n.leaseAlive(ctx, clientv3.LeaseID(lease))
	if err != nil {
		return fmt.Errorf("locker: create %s: %w", n.Key(), err)
	}
	if alive || try >= 3 {
		return fmt.Errorf("%w: ID %q on %s (key held by lease %x)", ErrDuplicateID, n.id, n.keys.Path(), lease)
	}
	err = attempt(ctx, func(ctx context.Context) error {
		_, err := n.client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(n.Key()), "=", modRev)).
			Then(clientv3.OpDelete(n.Key())).
			Commit()
		return err
	})
	if err != nil {
		return fmt.Errorf("locker: remove stale %s: %w", n.Key(), err)
	}
	return nil
}

// update sets the value of this node's key in place, keeping its place in
// line. It reports false when the key is gone, or the key ahead of it (if
// given) is. opMu is held.
func (n *Node) update(ctx context.Context, rev int64, value string, ahead *entry) (bool, error) {
	n.mu.Lock()
	lease := n.state.lease.id
	n.mu.Unlock()
	cmps := []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(n.Key()), "=", rev)}
	if ahead != nil {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(n.keys.Key(ahead.id)), "=", ahead.createRev))
	}
	var resp *clientv3.TxnResponse
	err := attempt(ctx, func(ctx context.Context) (err error) {
		resp, err = n.client.Txn(ctx).
			If(cmps...).
			Then(clientv3.OpPut(n.Key(), value, clientv3.WithLease(lease))).
			Commit()
		return err
	})
	if isLeaseNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return resp.Succeeded, nil
}

// resign removes this node's key. The node stops believing it is elected
// before the request is sent, and the same transaction writes the marker
// that tells the other nodes so: they may take over at once. opMu is held.
func (n *Node) resign(ctx context.Context) error {
	var (
		rev   int64
		lease clientv3.LeaseID
	)
	n.step(func(m *machine, _ time.Time) { rev, lease = m.startResign() })
	if rev != 0 {
		err := attempt(ctx, func(ctx context.Context) error {
			_, err := n.client.Txn(ctx).
				If(clientv3.Compare(clientv3.CreateRevision(n.Key()), "=", rev)).
				Then(clientv3.OpDelete(n.Key()),
					clientv3.OpPut(n.keys.ResignMarker(n.id), markerValue(rev), clientv3.WithLease(lease))).
				Commit()
			return err
		})
		if err != nil && !isLeaseNotFound(err) { // no lease: the key went with it
			return fmt.Errorf("locker: resign %s: %w", n.Key(), err)
		}
	}
	n.step(func(m *machine, now time.Time) { m.resigned(rev, now) })
	return nil
}

// leave resigns and revokes the lease. opMu is held.
func (n *Node) leave(ctx context.Context) error {
	if err := n.resign(ctx); err != nil {
		return err
	}
	n.mu.Lock()
	lease := n.state.lease.id
	n.mu.Unlock()
	if lease == 0 {
		return nil
	}
	err := attempt(ctx, func(ctx context.Context) error {
		_, err := n.client.Revoke(ctx, lease)
		return err
	})
	if err != nil && !isLeaseNotFound(err) {
		return fmt.Errorf("locker: revoke lease %x of %s: %w", lease, n.Key(), err)
	}
	n.step(func(m *machine, now time.Time) { m.leaseGone(lease, now) })
	return nil
}

func (n *Node) leaseAlive(ctx context.Context, lease clientv3.LeaseID) (bool, error) {
	if lease == 0 {
		return false, nil
	}
	var resp *clientv3.LeaseTimeToLiveResponse
	err := attempt(ctx, func(ctx context.Context) (err error) {
		resp, err = n.client.TimeToLive(ctx, lease)
		return err
	})
	if isLeaseNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return resp.TTL >= 0, nil // -1: gone; 0: less than a second left
}

// isLeaseNotFound reports whether etcd said it does not know the lease.
// clientv3 turns the gRPC status into rpctypes' typed error; a status that
// reaches us unconverted (a wrapper, a proxy) matches the gRPC form.
func isLeaseNotFound(err error) bool {
	return errors.Is(err, rpctypes.ErrLeaseNotFound) || errors.Is(err, rpctypes.ErrGRPCLeaseNotFound)
}

// unavailable reports whether err says etcd could not take the request now:
// a gRPC Unavailable status, or etcd's own errors of that code ("no leader").
func unavailable(err error) bool {
	var coded interface{ Code() codes.Code }
	if errors.As(err, &coded) {
		return coded.Code() == codes.Unavailable
	}
	return status.Code(err) == codes.Unavailable
}

// attemptTimeout bounds one try of a request. A request the client sent to a
// frozen member (it keeps its connections but answers nothing) is sent again,
// and the client's balancer sends the next try to another member, instead of
// spending the caller's whole deadline on the first. Every request retried
// here is safe to repeat: they are guarded by revisions, or (Grant) leave at
// worst an unused lease that expires.
const attemptTimeout = time.Second

// A request refused as Unavailable (the connection broke under it, the
// member has no raft leader for a moment) is retried too, after a short
// pause: clientv3 retries only idempotent requests by itself.
func attempt(ctx context.Context, op func(context.Context) error) error {
	for {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		err := op(actx)
		timedOut := actx.Err() != nil
		cancel()
		switch {
		case err == nil || ctx.Err() != nil:
			return err
		case timedOut:
			continue // at once: the balancer sends the next try elsewhere
		case !unavailable(err):
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond): // back off before the next try
		}
	}
}
