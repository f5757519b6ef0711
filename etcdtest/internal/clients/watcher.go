package clients

import (
	"context"

	clientv3 "go.etcd.io/etcd/client/v3"
)

type timedWatcher struct {
	clientv3.Watcher
	t *deadliner
}

func (w timedWatcher) RequestProgress(ctx context.Context) error {
	_, err := call(w.t, ctx, "RequestProgress", "", func(ctx context.Context) (struct{}, error) { return struct{}{}, w.Watcher.RequestProgress(ctx) })
	return err
}
