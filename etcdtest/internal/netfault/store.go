package netfault

// The network faults of a local cluster's peer traffic — partitions,
// one-way cuts, added latency and random loss — are one immutable snapshot
// (Faults), swapped atomically here by the cluster's fault methods and read
// by the peer proxies' policy (PeerPolicy) per connection and per chunk.

import (
	"sync"
	"sync/atomic"
)

// Store holds a cluster's current snapshot; nil means no faults. The
// fault methods change it, the peer proxies' policy reads it per
// connection and per chunk. The zero Store holds none.
type Store struct {
	mu  sync.Mutex // serialises changes
	cur atomic.Pointer[Faults]
}

// Load returns the current snapshot (nil: no faults).
func (s *Store) Load() *Faults { return s.cur.Load() }

// Update makes what change returns for the current snapshot current.
func (s *Store) Update(change func(*Faults) *Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store(change(s.cur.Load()))
}

// Clear lifts every fault.
func (s *Store) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store(nil)
}

// store makes f current (nil or empty: none) and wakes what waits on the
// snapshot it replaces (delay lines). The caller holds mu.
func (s *Store) store(f *Faults) {
	if f.Empty() {
		f = nil
	}
	s.cur.Swap(f).Retire()
}
