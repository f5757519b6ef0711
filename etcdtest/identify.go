package etcdtest

import (
	"net"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proc"
)

// partitionsSupported reports whether the peer proxies can tell which
// member opened a connection, which partitions and one-way cuts need.
var partitionsSupported = proc.ConnOwnersKnown

// connSender returns the index of the member whose process opened conn (a
// connection accepted by a proxy of this cluster), or -1 for anyone else.
func connSender(conn net.Conn, members []*Member) int {
	pids := make([]int, len(members))
	for i, m := range members {
		pids[i] = m.pid()
	}
	return connOwner(conn, pids)
}

// connOwner is proc.ConnOwner; tests put proc.ConnOwnerByLsof in its place
// to run on Linux what macOS runs.
var connOwner = proc.ConnOwner
