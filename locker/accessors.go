package locker

import clientv3 "go.etcd.io/etcd/client/v3"

// Client returns the client the node talks to etcd through: the one given to
// New. Tools read the election's keys with it (matchers shows them in failure
// messages); it stays the caller's to close.
func (n *Node) Client() *clientv3.Client { return n.client }
