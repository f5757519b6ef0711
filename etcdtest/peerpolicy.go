package etcdtest

import (
	"net"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/netfault"
)

// peerPolicy is the policy of member m's peer proxy (netfault.PeerPolicy):
// the cluster's network faults, and how to tell which member a connection
// comes from.
func (l *local) peerPolicy(m *Member) *netfault.PeerPolicy {
	return &netfault.PeerPolicy{
		To:         m.index,
		Faults:     &l.faults,
		ServerTLS:  l.sec.peerIn,
		BackendTLS: l.sec.peerTo,
		ByID: func(id uint64) int {
			if m := l.memberByID(id); m != nil {
				return m.index
			}
			return -1
		},
		ByKernel: func(conn net.Conn) int { return connSender(conn, l.members()) },
		Booted:   l.booted.Load,
		Running:  func() bool { return m.pid() != 0 },
	}
}
