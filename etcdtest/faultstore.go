package etcdtest

// The network faults of a local cluster's peer traffic — partitions,
// one-way cuts, added latency and random loss — are one immutable snapshot
// (netfault.Faults), swapped atomically here by the fault methods
// (network.go) and read by the peer proxies' policy (peerpolicy.go) per
// connection and per chunk. The decisions are pure functions of a snapshot
// in package netfault, tested there without etcd.

import (
	"sync"
	"sync/atomic"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/netfault"
)

// faultStore holds the current snapshot; nil means no faults.
type faultStore struct {
	mu  sync.Mutex // serialises changes
	cur atomic.Pointer[netfault.Faults]
}

func (s *faultStore) load() *netfault.Faults { return s.cur.Load() }

// update makes what change returns for the current snapshot current.
func (s *faultStore) update(change func(*netfault.Faults) *netfault.Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store(change(s.cur.Load()))
}

// clear lifts every fault.
func (s *faultStore) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store(nil)
}

// store makes f current (nil or empty: none) and wakes what waits on the
// snapshot it replaces (delay lines). The caller holds mu.
func (s *faultStore) store(f *netfault.Faults) {
	if f.Empty() {
		f = nil
	}
	s.cur.Swap(f).Retire()
}
