package locker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The session is this node's lease and its one key, prefix+ID, created under
// the lease in a transaction guarded by "the key does not exist". The key's
// create revision is its place in line. Every change to the key or lease
// holds opMu; the state they leave behind is recorded under mu.

// sessionLoop keeps the node's session in the state the user asked for: in
// the election with a live lease (rejoining after the session is lost), or
// out of it with no key and no lease.
func (n *Node) sessionLoop() {
	defer n.wg.Done()
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
	joined, rev, resigning, lease := n.joined, n.myRev, n.resigning, n.lease
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
	lease, due := n.lease, n.nextKeepAlive
	n.mu.Unlock()
	if lease == 0 {
		return 0
	}
	if wait := time.Until(due); wait > 0 {
		return wait
	}
	sent := time.Now()
	ctx, cancel := context.WithTimeout(n.ctx, n.granted/3)
	resp, err := n.client.KeepAliveOnce(ctx, lease)
	cancel()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.lease != lease {
		return 0
	}
	switch {
	case err == nil:
		n.granted = time.Duration(resp.TTL) * time.Second
		if d := sent.Add(n.granted); d.After(n.leaseDeadline) {
			n.leaseDeadline = d
		}
		n.nextKeepAlive = sent.Add(n.granted / 3)
		return time.Until(n.nextKeepAlive)
	case isLeaseNotFound(err):
		n.lease = 0
		if n.myRev != 0 {
			n.lostLocked("lease expired or revoked")
		}
		n.evaluateLocked()
		return 0
	default:
		n.lastErr = fmt.Errorf("locker: keep lease %x alive: %w", lease, err)
		return 50 * time.Millisecond
	}
}

// join grants a lease if the node has none and creates its key if it has
// none. opMu is held.
func (n *Node) join(ctx context.Context) error {
	n.mu.Lock()
	lease, rev := n.lease, n.myRev
	n.mu.Unlock()
	if rev != 0 {
		return nil
	}
	if lease == 0 {
		sent := time.Now()
		var resp *clientv3.LeaseGrantResponse
		err := attempt(ctx, func(ctx context.Context) (err error) {
			resp, err = n.client.Grant(ctx, int64(n.ttl/time.Second))
			return err
		})
		if err != nil {
			return fmt.Errorf("locker: grant lease for %s: %w", n.key, err)
		}
		lease = resp.ID
		n.mu.Lock()
		n.lease = lease
		n.granted = time.Duration(resp.TTL) * time.Second
		n.leaseDeadline = sent.Add(n.granted)
		n.nextKeepAlive = sent.Add(n.granted / 3)
		n.mu.Unlock()
	}
	for try := 0; ; try++ {
		n.mu.Lock()
		value := n.value
		n.mu.Unlock()
		var resp *clientv3.TxnResponse
		err := attempt(ctx, func(ctx context.Context) (err error) {
			resp, err = n.client.Txn(ctx).
				If(clientv3.Compare(clientv3.CreateRevision(n.key), "=", 0)).
				Then(clientv3.OpPut(n.key, value, clientv3.WithLease(lease))).
				Else(clientv3.OpGet(n.key)).
				Commit()
			return err
		})
		if err != nil {
			if isLeaseNotFound(err) {
				n.mu.Lock()
				if n.lease == lease {
					n.lease = 0
				}
				n.mu.Unlock()
			}
			return fmt.Errorf("locker: create %s: %w", n.key, err)
		}
		if resp.Succeeded {
			rev = resp.Header.Revision
			break
		}
		kvs := resp.Responses[0].GetResponseRange().Kvs
		if len(kvs) == 0 {
			continue
		}
		kv := kvs[0]
		if clientv3.LeaseID(kv.Lease) == lease {
			// Ours: an earlier attempt succeeded but its answer was lost.
			rev = kv.CreateRevision
			if string(kv.Value) != value {
				if _, err := n.update(ctx, rev, value, nil); err != nil {
					return fmt.Errorf("locker: create %s: %w", n.key, err)
				}
			}
			break
		}
		alive, err := n.leaseAlive(ctx, clientv3.LeaseID(kv.Lease))
		if err != nil {
			return fmt.Errorf("locker: create %s: %w", n.key, err)
		}
		if alive || try >= 3 {
			return fmt.Errorf("%w: ID %q on %s (key held by lease %x)", ErrDuplicateID, n.id, n.path, kv.Lease)
		}
		// A stale key under a dead lease or none: remove it, unless it changed.
		err = attempt(ctx, func(ctx context.Context) error {
			_, err := n.client.Txn(ctx).
				If(clientv3.Compare(clientv3.ModRevision(n.key), "=", kv.ModRevision)).
				Then(clientv3.OpDelete(n.key)).
				Commit()
			return err
		})
		if err != nil {
			return fmt.Errorf("locker: remove stale %s: %w", n.key, err)
		}
	}
	n.mu.Lock()
	n.myRev = rev
	n.confirmedAt = time.Time{}
	n.lastErr = nil
	n.historyLocked(EventJoined, n.id, n.value, rev)
	n.evaluateLocked()
	n.mu.Unlock()
	n.kick(n.kickConfirm)
	return nil
}

// update sets the value of this node's key in place, keeping its place in
// line. It reports false when the key is gone, or the key ahead of it (if
// given) is. opMu is held.
func (n *Node) update(ctx context.Context, rev int64, value string, ahead *entry) (bool, error) {
	n.mu.Lock()
	lease := n.lease
	n.mu.Unlock()
	cmps := []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(n.key), "=", rev)}
	if ahead != nil {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(n.prefix+ahead.id), "=", ahead.createRev))
	}
	var resp *clientv3.TxnResponse
	err := attempt(ctx, func(ctx context.Context) (err error) {
		resp, err = n.client.Txn(ctx).
			If(cmps...).
			Then(clientv3.OpPut(n.key, value, clientv3.WithLease(lease))).
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
	n.mu.Lock()
	rev, lease := n.myRev, n.lease
	n.resigning = true
	n.evaluateLocked()
	n.mu.Unlock()
	if rev != 0 {
		err := attempt(ctx, func(ctx context.Context) error {
			_, err := n.client.Txn(ctx).
				If(clientv3.Compare(clientv3.CreateRevision(n.key), "=", rev)).
				Then(clientv3.OpDelete(n.key),
					clientv3.OpPut(n.marker, strconv.FormatInt(rev, 10), clientv3.WithLease(lease))).
				Commit()
			return err
		})
		if err != nil && !isLeaseNotFound(err) { // no lease: the key went with it
			return fmt.Errorf("locker: resign %s: %w", n.key, err)
		}
	}
	n.mu.Lock()
	if rev != 0 && n.myRev == rev {
		n.historyLocked(EventLeft, n.id, n.value, rev)
		n.myRev = 0
	}
	n.resigning = false
	n.confirmedAt = time.Time{}
	n.evaluateLocked()
	n.mu.Unlock()
	return nil
}

// leave resigns and revokes the lease. opMu is held.
func (n *Node) leave(ctx context.Context) error {
	if err := n.resign(ctx); err != nil {
		return err
	}
	n.mu.Lock()
	lease := n.lease
	n.mu.Unlock()
	if lease == 0 {
		return nil
	}
	err := attempt(ctx, func(ctx context.Context) error {
		_, err := n.client.Revoke(ctx, lease)
		return err
	})
	if err != nil && !isLeaseNotFound(err) {
		return fmt.Errorf("locker: revoke lease %x of %s: %w", lease, n.key, err)
	}
	n.mu.Lock()
	if n.lease == lease {
		n.lease = 0
	}
	n.mu.Unlock()
	return nil
}

// lostLocked records that this node's key is gone without its doing.
func (n *Node) lostLocked(reason string) {
	n.historyLocked(EventLost, n.id, n.value, n.myRev)
	n.lastErr = fmt.Errorf("locker: %s lost its key (revision %d): %s", n.id, n.myRev, reason)
	n.myRev = 0
	n.confirmedAt = time.Time{}
	n.evaluateLocked()
	n.kick(n.kickSession)
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

// isLeaseNotFound matches rpctypes.ErrLeaseNotFound by its text: that
// package lives in go.etcd.io/etcd/api/v3, which this module does not
// depend on directly.
func isLeaseNotFound(err error) bool {
	return err != nil && strings.Contains(err.Error(), "requested lease not found")
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
