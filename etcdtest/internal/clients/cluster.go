package clients

import (
	"context"

	clientv3 "go.etcd.io/etcd/client/v3"
)

type timedCluster struct {
	clientv3.Cluster
	t *deadliner
}

func (c timedCluster) MemberList(ctx context.Context, opts ...clientv3.OpOption) (*clientv3.MemberListResponse, error) {
	return call(c.t, ctx, "MemberList", "", func(ctx context.Context) (*clientv3.MemberListResponse, error) {
		return c.Cluster.MemberList(ctx, opts...)
	})
}

func (c timedCluster) MemberAdd(ctx context.Context, peerAddrs []string) (*clientv3.MemberAddResponse, error) {
	return call(c.t, ctx, "MemberAdd", "", func(ctx context.Context) (*clientv3.MemberAddResponse, error) {
		return c.Cluster.MemberAdd(ctx, peerAddrs)
	})
}

func (c timedCluster) MemberAddAsLearner(ctx context.Context, peerAddrs []string) (*clientv3.MemberAddResponse, error) {
	return call(c.t, ctx, "MemberAddAsLearner", "", func(ctx context.Context) (*clientv3.MemberAddResponse, error) {
		return c.Cluster.MemberAddAsLearner(ctx, peerAddrs)
	})
}

func (c timedCluster) MemberRemove(ctx context.Context, id uint64) (*clientv3.MemberRemoveResponse, error) {
	return call(c.t, ctx, "MemberRemove", "", func(ctx context.Context) (*clientv3.MemberRemoveResponse, error) {
		return c.Cluster.MemberRemove(ctx, id)
	})
}

func (c timedCluster) MemberUpdate(ctx context.Context, id uint64, peerAddrs []string) (*clientv3.MemberUpdateResponse, error) {
	return call(c.t, ctx, "MemberUpdate", "", func(ctx context.Context) (*clientv3.MemberUpdateResponse, error) {
		return c.Cluster.MemberUpdate(ctx, id, peerAddrs)
	})
}

func (c timedCluster) MemberPromote(ctx context.Context, id uint64) (*clientv3.MemberPromoteResponse, error) {
	return call(c.t, ctx, "MemberPromote", "", func(ctx context.Context) (*clientv3.MemberPromoteResponse, error) {
		return c.Cluster.MemberPromote(ctx, id)
	})
}
