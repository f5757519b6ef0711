package clients

import (
	"context"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// timedMaintenance leaves Snapshot and SnapshotWithVersion alone: they
// stream the snapshot.
type timedMaintenance struct {
	clientv3.Maintenance
	t *deadliner
}

func (m timedMaintenance) AlarmList(ctx context.Context) (*clientv3.AlarmResponse, error) {
	return call(m.t, ctx, "AlarmList", "", m.Maintenance.AlarmList)
}

func (m timedMaintenance) AlarmDisarm(ctx context.Context, am *clientv3.AlarmMember) (*clientv3.AlarmResponse, error) {
	return call(m.t, ctx, "AlarmDisarm", "", func(ctx context.Context) (*clientv3.AlarmResponse, error) { return m.Maintenance.AlarmDisarm(ctx, am) })
}

func (m timedMaintenance) Defragment(ctx context.Context, endpoint string) (*clientv3.DefragmentResponse, error) {
	return call(m.t, ctx, "Defragment", endpoint, func(ctx context.Context) (*clientv3.DefragmentResponse, error) {
		return m.Maintenance.Defragment(ctx, endpoint)
	})
}

func (m timedMaintenance) Status(ctx context.Context, endpoint string) (*clientv3.StatusResponse, error) {
	return call(m.t, ctx, "Status", endpoint, func(ctx context.Context) (*clientv3.StatusResponse, error) {
		return m.Maintenance.Status(ctx, endpoint)
	})
}

func (m timedMaintenance) HashKV(ctx context.Context, endpoint string, rev int64) (*clientv3.HashKVResponse, error) {
	return call(m.t, ctx, "HashKV", endpoint, func(ctx context.Context) (*clientv3.HashKVResponse, error) {
		return m.Maintenance.HashKV(ctx, endpoint, rev)
	})
}

func (m timedMaintenance) MoveLeader(ctx context.Context, transfereeID uint64) (*clientv3.MoveLeaderResponse, error) {
	return call(m.t, ctx, "MoveLeader", "", func(ctx context.Context) (*clientv3.MoveLeaderResponse, error) {
		return m.Maintenance.MoveLeader(ctx, transfereeID)
	})
}

func (m timedMaintenance) Downgrade(ctx context.Context, action clientv3.DowngradeAction, version string) (*clientv3.DowngradeResponse, error) {
	return call(m.t, ctx, "Downgrade", "", func(ctx context.Context) (*clientv3.DowngradeResponse, error) {
		return m.Maintenance.Downgrade(ctx, action, version)
	})
}
