package netfault

// The decisions on one route or one chunk.

import (
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proxy"
)

// SameSide reports whether members a and b are on the same side of the
// partition (always, without one).
func (f *Faults) SameSide(a, b int) bool {
	return f == nil || f.groups == nil || f.groups[a] == f.groups[b]
}

// NeedsSender reports whether a chunk through member to's proxy can be
// judged differently depending on the member at the other end. When it
// cannot, the chunk is judged as to's own (Route{to, to}), and the proxy
// need not find out who sent it.
func (f *Faults) NeedsSender(to int) bool {
	if f == nil {
		return false
	}
	for l := range f.cut {
		if l.From == to || l.To == to {
			return true
		}
	}
	for i := range f.drop {
		if f.drop[i] > f.drop[to] {
			return true
		}
	}
	for i := range f.delay {
		if f.delay[i] > f.delay[to] {
			return true
		}
	}
	return false
}

// RouteDelay is the latency added to from's bytes towards to: the larger of
// the two members' settings. Either may be -1, a peer the proxy could not
// attribute: then the other end decides.
func (f *Faults) RouteDelay(from, to int) time.Duration {
	if f == nil {
		return 0
	}
	return max(f.delay[from], f.delay[to])
}

// RouteDrop is the fraction of from's chunks towards to that are lost: the
// larger of the two members' settings.
func (f *Faults) RouteDrop(from, to int) float64 {
	if f == nil {
		return 0
	}
	return max(f.drop[from], f.drop[to])
}

// Reaches reports whether from's raft messages reach to: not partitioned
// apart, not cut one way, not lost entirely (drop 1). Latency delays
// messages but they arrive. Settling reasons with it (Majority).
func (f *Faults) Reaches(from, to int) bool {
	return f == nil || f.SameSide(from, to) && !f.cut[Route{from, to}] && f.RouteDrop(from, to) < 1
}

// Judge decides the fate of a chunk going from member from to member to
// (-1: a peer the proxy could not attribute), given roll, a uniform random
// number in [0, 1) drawn for this chunk. Partitions are not judged here:
// they act on whole connections (SameSide).
func (f *Faults) Judge(from, to int, roll float64) proxy.Verdict {
	switch {
	case f == nil:
		return proxy.Pass
	case (from < 0 || to < 0) && len(f.cut) > 0:
		// A one-way cut must not leak through a connection it cannot
		// place; closing it makes etcd redial, and the redial is placed.
		return proxy.Lose
	case f.cut[Route{from, to}]:
		return proxy.Hole
	case roll < f.RouteDrop(from, to):
		return proxy.Lose
	}
	return proxy.Pass
}

// RouteOf is the member-to-member direction of dir on a connection opened by
// sender to the proxy of member to.
func RouteOf(dir proxy.Direction, sender, to int) Route {
	if dir == proxy.Request {
		return Route{sender, to}
	}
	return Route{to, sender}
}
