package etcdtest

// The network faults of a local cluster's peer traffic: partitions,
// one-way cuts, added latency and random loss. They are one immutable
// snapshot (netFaults), swapped atomically (faultStore) by the fault
// methods (network.go) and read by the peer proxies' policy (peerpolicy.go)
// per connection and per chunk. The decisions are plain functions of a
// snapshot, so they are tested without etcd.
//
// Directions follow etcd's rafthttp. On a connection member X opened to
// member Y's proxy, request bytes are X→Y traffic and response bytes are
// Y→X traffic: a raft stream is a GET opened by the receiver to the
// sender's peer URL (the sender writes messages into the response), while
// pipelined messages and snapshots are POSTs opened by the sender. So a
// one-way fault is judged per connection and per direction, never per
// connection alone. A partition cuts both directions and acts on whole
// connections: they are refused and closed.
//
// What "loss" means: TCP does not lose bytes, it loses connections. Dropping
// chunks out of a stream (what etcd's robustness DropPeerNetwork does) hands
// the receiver broken HTTP and raft framing, which it notices at a time that
// depends on what the lost bytes were. Here a lost chunk takes its
// connection with it: the proxy discards the chunk and resets the connection
// both ways, so the members see a reset at once, lose whatever was in flight
// on it, and redial — every loss is noticed, nothing waits on a half message.
//
// A one-way cut black-holes the cut direction: its bytes vanish while the
// other direction flows. The bytes that vanished may have broken the
// framing, so when a cut is lifted every connection whose cut direction
// carried bytes is closed; the members redial cleanly.

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// link is a direction between two members: from's bytes towards to.
type link struct{ from, to int }

// netFaults is one immutable snapshot of the network faults. A nil
// *netFaults means none; its methods accept nil.
type netFaults struct {
	groups  []int                 // partition group of each member; nil when not partitioned
	delay   map[int]time.Duration // per member, on every link touching it
	drop    map[int]float64       // per member, on every link touching it
	cut     map[link]bool         // one-way cuts
	changed chan struct{}         // closed when a newer snapshot replaces this one
}

// faultStore holds the current snapshot.
type faultStore struct {
	mu  sync.Mutex // serialises changes
	cur atomic.Pointer[netFaults]
}

func (s *faultStore) load() *netFaults { return s.cur.Load() }

// update makes change of a copy of the current snapshot current.
func (s *faultStore) update(change func(*netFaults)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.cur.Load().clone()
	change(f)
	s.store(f)
}

// clear lifts every fault.
func (s *faultStore) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store(nil)
}

// store makes f current (nil or empty: none) and wakes what waits on the
// snapshot it replaces (delay lines). The caller holds mu.
func (s *faultStore) store(f *netFaults) {
	if f.empty() {
		f = nil
	}
	if old := s.cur.Swap(f); old != nil {
		close(old.changed)
	}
}

func (f *netFaults) clone() *netFaults {
	g := &netFaults{delay: map[int]time.Duration{}, drop: map[int]float64{}, cut: map[link]bool{}, changed: make(chan struct{})}
	if f != nil {
		g.groups = slices.Clone(f.groups)
		maps.Copy(g.delay, f.delay)
		maps.Copy(g.drop, f.drop)
		maps.Copy(g.cut, f.cut)
	}
	return g
}

func (f *netFaults) empty() bool {
	return f == nil || f.groups == nil && !f.shapesTraffic()
}

// shapesTraffic reports whether any fault acts on chunks rather than on
// whole connections (latency, loss, one-way cuts).
func (f *netFaults) shapesTraffic() bool {
	return f != nil && (len(f.delay) > 0 || len(f.drop) > 0 || len(f.cut) > 0)
}

// sameSide reports whether members a and b are on the same side of the
// partition (always, without one).
func (f *netFaults) sameSide(a, b int) bool {
	return f == nil || f.groups == nil || f.groups[a] == f.groups[b]
}

// needsSender reports whether a chunk through member to's proxy can be
// judged differently depending on the member at the other end.
func (f *netFaults) needsSender(to int) bool {
	if f == nil {
		return false
	}
	for l := range f.cut {
		if l.from == to || l.to == to {
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

// linkDelay is the latency added to from's bytes towards to. Either may be
// -1, a peer the proxy could not attribute: then the other end decides.
func (f *netFaults) linkDelay(from, to int) time.Duration {
	if f == nil {
		return 0
	}
	return max(f.delay[from], f.delay[to])
}

func (f *netFaults) linkDrop(from, to int) float64 {
	if f == nil {
		return 0
	}
	return max(f.drop[from], f.drop[to])
}

// reaches reports whether from's raft messages reach to: not partitioned
// apart, not cut one way, not lost entirely (Drop 1). Latency delays
// messages but they arrive. Settling (settle.go) reasons with it.
func (f *netFaults) reaches(from, to int) bool {
	return f == nil || f.sameSide(from, to) && !f.cut[link{from, to}] && f.linkDrop(from, to) < 1
}

// judge decides the fate of a chunk going from member from to member to
// (-1: a peer the proxy could not attribute), given roll, a uniform random
// number in [0, 1) drawn for this chunk. Partitions are not judged here:
// they act on whole connections (peerPolicy.admit and keep).
func (f *netFaults) judge(from, to int, roll float64) verdict {
	switch {
	case f == nil:
		return pass
	case (from < 0 || to < 0) && len(f.cut) > 0:
		// A one-way cut must not leak through a connection it cannot
		// place; closing it makes etcd redial, and the redial is placed.
		return lose
	case f.cut[link{from, to}]:
		return hole
	case roll < f.linkDrop(from, to):
		return lose
	}
	return pass
}

// linkOf is the member-to-member direction of dir on a connection opened by
// sender to the proxy of member to.
func linkOf(dir direction, sender, to int) link {
	if dir == request {
		return link{sender, to}
	}
	return link{to, sender}
}

// describe says what f does, naming members with name: the partition,
// e.g. "{node1} | {node2 node3}", then one-way cuts, latency and loss, e.g.
// "node1 -/-> {node2 node3}; delay 200ms {node1}; drop 30% {node2}"; ""
// for none.
func (f *netFaults) describe(name func(int) string) string {
	if f == nil {
		return ""
	}
	names := func(is []int) string {
		slices.Sort(is)
		s := make([]string, len(is))
		for k, i := range is {
			s[k] = name(i)
		}
		return "{" + strings.Join(s, " ") + "}"
	}
	var parts []string
	if f.groups != nil {
		byGroup := map[int][]int{}
		for i, g := range f.groups {
			byGroup[g] = append(byGroup[g], i)
		}
		var sides []string
		for _, g := range slices.Sorted(maps.Keys(byGroup)) {
			sides = append(sides, names(byGroup[g]))
		}
		parts = append(parts, strings.Join(sides, " | "))
	}
	cutTo := map[int][]int{}
	for l := range f.cut {
		cutTo[l.from] = append(cutTo[l.from], l.to)
	}
	for _, from := range slices.Sorted(maps.Keys(cutTo)) {
		parts = append(parts, name(from)+" -/-> "+names(cutTo[from]))
	}
	byDelay := map[time.Duration][]int{}
	for i, d := range f.delay {
		byDelay[d] = append(byDelay[d], i)
	}
	for _, d := range slices.Sorted(maps.Keys(byDelay)) {
		parts = append(parts, "delay "+d.String()+" "+names(byDelay[d]))
	}
	byRate := map[float64][]int{}
	for i, r := range f.drop {
		byRate[r] = append(byRate[r], i)
	}
	for _, r := range slices.Sorted(maps.Keys(byRate)) {
		parts = append(parts, "drop "+strconv.FormatFloat(r*100, 'g', 4, 64)+"% "+names(byRate[r]))
	}
	return strings.Join(parts, "; ")
}
