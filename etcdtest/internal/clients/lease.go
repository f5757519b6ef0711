package clients

import (
	"context"

	clientv3 "go.etcd.io/etcd/client/v3"
)

type timedLease struct {
	clientv3.Lease
	t *deadliner
}

func (l timedLease) Grant(ctx context.Context, ttl int64) (*clientv3.LeaseGrantResponse, error) {
	return call(l.t, ctx, "Grant", "", func(ctx context.Context) (*clientv3.LeaseGrantResponse, error) { return l.Lease.Grant(ctx, ttl) })
}

func (l timedLease) Revoke(ctx context.Context, id clientv3.LeaseID) (*clientv3.LeaseRevokeResponse, error) {
	return call(l.t, ctx, "Revoke", "", func(ctx context.Context) (*clientv3.LeaseRevokeResponse, error) { return l.Lease.Revoke(ctx, id) })
}

func (l timedLease) TimeToLive(ctx context.Context, id clientv3.LeaseID, opts ...clientv3.LeaseOption) (*clientv3.LeaseTimeToLiveResponse, error) {
	return call(l.t, ctx, "TimeToLive", "", func(ctx context.Context) (*clientv3.LeaseTimeToLiveResponse, error) {
		return l.Lease.TimeToLive(ctx, id, opts...)
	})
}

func (l timedLease) Leases(ctx context.Context) (*clientv3.LeaseLeasesResponse, error) {
	return call(l.t, ctx, "Leases", "", l.Lease.Leases)
}

func (l timedLease) KeepAliveOnce(ctx context.Context, id clientv3.LeaseID) (*clientv3.LeaseKeepAliveResponse, error) {
	return call(l.t, ctx, "KeepAliveOnce", "", func(ctx context.Context) (*clientv3.LeaseKeepAliveResponse, error) {
		return l.Lease.KeepAliveOnce(ctx, id)
	})
}
