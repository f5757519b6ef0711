package etcdtest

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Key is a key name plus the client it is read through: the cluster's
// shared client (Cluster.Key) or one member's pinned client (Member.Key).
// matchers.HaveValue reads it on every poll:
//
//	Eventually(cluster.Member(1).Key("/test")).Should(matchers.HaveValue("hello world"))
type Key struct {
	name   string
	client *clientv3.Client
	via    string
}

// Name returns the key's name.
func (k Key) Name() string { return k.name }

// Client returns the client the key is read through.
func (k Key) Client() *clientv3.Client { return k.client }

// String describes the key and where it is read, e.g. "/test via node2".
func (k Key) String() string { return fmt.Sprintf("%s via %s", k.name, k.via) }

// Get reads the key's current value with a linearizable read. found is
// false when the key does not exist.
func (k Key) Get(ctx context.Context) (value string, found bool, err error) {
	resp, err := k.client.Get(ctx, k.name)
	if err != nil {
		return "", false, fmt.Errorf("etcdtest: get %s: %w", k, err)
	}
	if len(resp.Kvs) == 0 {
		return "", false, nil
	}
	return string(resp.Kvs[0].Value), true, nil
}

// Put sets the key's value.
func (k Key) Put(ctx context.Context, value string) error {
	if _, err := k.client.Put(ctx, k.name, value); err != nil {
		return fmt.Errorf("etcdtest: put %s: %w", k, err)
	}
	return nil
}

// Delete removes the key.
func (k Key) Delete(ctx context.Context) error {
	if _, err := k.client.Delete(ctx, k.name); err != nil {
		return fmt.Errorf("etcdtest: delete %s: %w", k, err)
	}
	return nil
}
