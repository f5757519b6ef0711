// Package keyspace is how a test process shares an existing etcd cluster
// ($ETCDTEST_ENDPOINTS) with others: each works under a key prefix of its
// own, claimed under a kept-alive lease, seen through namespaced clients,
// and removed when it stops. A run that died without stopping leaves its
// prefix behind; the next claim under the same base sweeps it once the
// dead run's lease has expired.
//
// Under base, a run named run keeps:
//
//	base+run+"/"       its keys (what its namespaced clients see as the root)
//	base+".runs/"+run  its record, written once, holding its start time
//	base+".live/"+run  a key under its lease: gone once the run is dead
package keyspace

import (
	"context"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/namespace"
)

// LiveTTL is the lease TTL, in seconds, of a run's live key: a run that
// died is swept by the next claim once it expired.
const LiveTTL = 60

// Claim is one run's prefix, held while its lease is kept alive.
type Claim struct {
	base, run string
	lease     clientv3.LeaseID
	cancel    context.CancelFunc // ends the lease's keep-alive
}

// Prefix is where the run's keys live: base + run + "/".
func (c *Claim) Prefix() string { return c.base + c.run + "/" }

// Take claims run's prefix under base through raw and sweeps the prefixes
// of runs that died (best effort). On error the caller closes raw, which
// ends whatever was started.
func Take(ctx context.Context, raw *clientv3.Client, base, run string) (*Claim, error) {
	if run == "" || strings.Contains(run, "/") {
		return nil, fmt.Errorf("keyspace: run name %q must be non-empty and hold no '/'", run)
	}
	lease, err := raw.Grant(ctx, LiveTTL)
	if err != nil {
		return nil, err
	}
	kctx, cancel := context.WithCancel(context.Background())
	c := &Claim{base: base, run: run, lease: lease.ID, cancel: cancel}
	ka, err := raw.KeepAlive(kctx, lease.ID)
	if err != nil {
		cancel()
		return nil, err
	}
	go func() {
		for range ka { // drain: the client keeps the lease alive while this runs
		}
	}()
	// The live key comes first: a run with a .runs key always has a live
	// one, unless it died.
	if _, err := raw.Put(ctx, base+".live/"+run, "", clientv3.WithLease(lease.ID)); err != nil {
		cancel()
		return nil, err
	}
	if _, err := raw.Put(ctx, base+".runs/"+run, time.Now().UTC().Format(time.RFC3339)); err != nil {
		cancel()
		return nil, err
	}
	c.sweep(ctx, raw)
	return c, nil
}

// sweep removes the prefix and record of every run whose live key is gone.
func (c *Claim) sweep(ctx context.Context, raw *clientv3.Client) {
	resp, err := raw.Txn(ctx).Then(
		clientv3.OpGet(c.base+".runs/", clientv3.WithPrefix(), clientv3.WithKeysOnly()),
		clientv3.OpGet(c.base+".live/", clientv3.WithPrefix(), clientv3.WithKeysOnly()),
	).Commit()
	if err != nil {
		return // sweeping is best effort
	}
	live := map[string]bool{}
	for _, kv := range resp.Responses[1].GetResponseRange().Kvs {
		live[strings.TrimPrefix(string(kv.Key), c.base+".live/")] = true
	}
	for _, kv := range resp.Responses[0].GetResponseRange().Kvs {
		run := strings.TrimPrefix(string(kv.Key), c.base+".runs/")
		if !live[run] && run != "" && !strings.Contains(run, "/") {
			raw.Txn(ctx).Then(
				clientv3.OpDelete(c.base+run+"/", clientv3.WithPrefix()),
				clientv3.OpDelete(c.base+".runs/"+run),
			).Commit()
		}
	}
}

// Namespaced returns a client that sees only keys under prefix. It shares
// raw's connection: closing raw closes it.
func Namespaced(raw *clientv3.Client, prefix string) *clientv3.Client {
	ns := *raw
	ns.KV = namespace.NewKV(raw.KV, prefix)
	ns.Watcher = namespace.NewWatcher(raw.Watcher, prefix)
	ns.Lease = namespace.NewLease(raw.Lease, prefix)
	return &ns
}

// Release removes the run's keys and record and revokes its lease. A nil
// Claim has nothing to release.
func (c *Claim) Release(ctx context.Context, raw *clientv3.Client) error {
	if c == nil {
		return nil
	}
	defer c.cancel()
	_, err := raw.Txn(ctx).Then(
		clientv3.OpDelete(c.Prefix(), clientv3.WithPrefix()),
		clientv3.OpDelete(c.base+".runs/"+c.run),
	).Commit()
	raw.Revoke(ctx, c.lease)
	return err
}

// Stop ends the lease's keep-alive without removing anything (the
// connection is going away); a nil Claim is fine.
func (c *Claim) Stop() {
	if c != nil {
		c.cancel()
	}
}
