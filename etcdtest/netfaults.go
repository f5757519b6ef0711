package etcdtest

// Network faults beyond a clean cut: added latency, random loss and
// one-way partitions of the members' peer traffic. They act in the peer
// proxies (proxy.go), chunk by chunk, on bytes the proxies already see.
//
// Directions follow etcd's rafthttp. On a connection member X opened to
// member Y's proxy, request bytes are X→Y traffic and response bytes are
// Y→X traffic: a raft stream is a GET opened by the receiver to the
// sender's peer URL (the sender writes messages into the response), while
// pipelined messages and snapshots are POSTs opened by the sender. So a
// fault is judged per connection and per direction, never per connection
// alone.
//
// What "loss" means: TCP does not lose bytes, it loses connections. Dropping
// chunks out of a stream (what etcd's robustness DropPeerNetwork does) hands
// the receiver broken HTTP and raft framing, which it notices at a time that
// depends on what the lost bytes were. Here a lost chunk takes its
// connection with it: the proxy discards the chunk and closes the connection
// both ways, so the members see a reset at once, lose whatever was in flight
// on it, and redial — every loss is noticed, nothing waits on a half message.
//
// A one-way cut black-holes the cut direction: its bytes vanish while the
// other direction flows. The bytes that vanished may have broken the
// framing, so when a cut is lifted every connection whose cut direction
// carried bytes is closed; the members redial cleanly.
//
// The state is one immutable snapshot (netFaults) swapped atomically; the
// proxies read it per chunk. The decisions are plain functions of a
// snapshot (judge, linkDelay, reaches) so they can be tested without etcd.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Delay adds latency d to every peer message sent or received by the given
// members (every member when none are given): each chunk of raft traffic on
// a link that touches one of them is delivered d after the proxy read it,
// in order, in each direction, so a round trip between two members grows by
// 2d. Connection setup is not delayed. A link's latency is the larger of its
// two members' settings; Delay(0, ...) removes it for those members and
// Heal for all. It returns at once: latency churns elections rather than
// settling into a new state, so it does not wait for a leader.
//
// Latency above the cluster's ElectionTimeout makes followers time out
// before the leader's heartbeats arrive: expect repeated elections.
func (c *Cluster) Delay(d time.Duration, members ...int) error {
	const op = "Delay"
	if err := c.checkLocal(op); err != nil {
		return err
	}
	if d < 0 {
		return fmt.Errorf("etcdtest: Delay(%v): latency must not be negative; use 0 to remove it", d)
	}
	targets, err := c.netFaultTargets(op, members)
	if err != nil {
		return err
	}
	c.updateNetFaults(func(f *netFaults) {
		for _, i := range targets {
			if d == 0 {
				delete(f.delay, i)
			} else {
				f.delay[i] = d
			}
		}
	})
	return nil
}

// Drop loses the given fraction of the peer traffic sent or received by the
// given members (every member when none are given): rate 0.3 loses about
// 30% of the chunks of raft traffic on links touching them, 1 loses all, 0
// removes the fault for those members (Heal removes it for all). A link's
// rate is the larger of its two members' settings.
//
// A lost chunk takes its TCP connection with it: the proxy discards it and
// closes the connection both ways, and the members reconnect. This is what
// loss amounts to over TCP — connections break and messages in flight are
// gone — without handing etcd half a message to stall on. At rate 1 every
// connection dies on its first chunk: the members are isolated in effect.
// A stream carries heartbeats many times per election timeout, so even a
// small rate breaks streams often and raft falls back to its pipeline.
//
// It returns at once and does not wait for a leader: loss churns elections.
// The shared client stops using members whose traffic is lost entirely.
func (c *Cluster) Drop(rate float64, members ...int) error {
	const op = "Drop"
	if err := c.checkLocal(op); err != nil {
		return err
	}
	if math.IsNaN(rate) || rate < 0 || rate > 1 {
		return fmt.Errorf("etcdtest: Drop(%v): rate must be in [0, 1], the fraction of peer traffic lost (0.3 loses 30%%); use 0 to remove it", rate)
	}
	targets, err := c.netFaultTargets(op, members)
	if err != nil {
		return err
	}
	c.updateNetFaults(func(f *netFaults) {
		for _, i := range targets {
			if rate == 0 {
				delete(f.drop, i)
			} else {
				f.drop[i] = rate
			}
		}
	})
	c.route(c.majority()) // the shared client avoids members lost entirely
	return nil
}

// CutOneWay stops the messages of the members in from reaching the members
// in to, while messages the other way still flow: a one-way partition.
// For example CutOneWay([]int{leader}, others) silences the raft leader —
// it still hears the others, they no longer hear it — and the others elect
// a new leader. A member in both lists keeps talking to itself. Cuts add
// up; Heal lifts them all. Like Isolate, it returns once the members that
// still reach each other both ways and form a majority agree on a leader.
func (c *Cluster) CutOneWay(from, to []int) error {
	const op = "CutOneWay"
	if err := c.checkLocal(op); err != nil {
		return err
	}
	if !partitionsSupported {
		return fmt.Errorf("etcdtest: %s needs Linux (peer connections are attributed to members through /proc)", op)
	}
	if len(from) == 0 || len(to) == 0 {
		return fmt.Errorf("etcdtest: CutOneWay(%v, %v): name members on both sides, e.g. CutOneWay([]int{0}, []int{1, 2}) stops member 0's messages reaching 1 and 2", from, to)
	}
	for _, i := range slices.Concat(from, to) {
		if i < 0 || i >= len(c.members) {
			return fmt.Errorf("etcdtest: CutOneWay: no member %d; use 0..%d", i, len(c.members)-1)
		}
	}
	var cuts []link
	for _, a := range from {
		for _, b := range to {
			if a != b {
				cuts = append(cuts, link{a, b})
			}
		}
	}
	if len(cuts) == 0 {
		return fmt.Errorf("etcdtest: CutOneWay(%v, %v) cuts nothing: a member always reaches itself; name different members on each side", from, to)
	}
	c.updateNetFaults(func(f *netFaults) {
		for _, l := range cuts {
			f.cut[l] = true
		}
	})
	return c.settle(context.Background(), op)
}

// netFaultTargets checks the members a Delay or Drop names; none means all.
// Naming members needs the connections attributed to them (Linux); a fault
// on every member does not.
func (c *Cluster) netFaultTargets(op string, members []int) ([]int, error) {
	if len(members) == 0 {
		all := make([]int, len(c.members))
		for i := range all {
			all[i] = i
		}
		return all, nil
	}
	if !partitionsSupported {
		return nil, fmt.Errorf("etcdtest: %s of chosen members needs Linux (peer connections are attributed to members through /proc); name no members to apply it to all", op)
	}
	for _, i := range members {
		if i < 0 || i >= len(c.members) {
			return nil, fmt.Errorf("etcdtest: %s: no member %d; use 0..%d", op, i, len(c.members)-1)
		}
	}
	return members, nil
}

// updateNetFaults applies change to a copy of the current faults, makes it
// current, and closes connections a lifted cut leaves with broken framing.
func (c *Cluster) updateNetFaults(change func(*netFaults)) {
	c.faultMu.Lock()
	f := c.netf.Load().clone()
	change(f)
	c.storeNetFaults(f)
	c.faultMu.Unlock()
	for _, m := range c.members {
		if m.proxy != nil {
			m.proxy.cut()
		}
	}
}

// storeNetFaults makes f current (nil or empty: none) and wakes the delay
// lines waiting on the one it replaces. The caller holds c.faultMu.
func (c *Cluster) storeNetFaults(f *netFaults) {
	if f.empty() {
		f = nil
	}
	if old := c.netf.Swap(f); old != nil {
		close(old.changed)
	}
}

// link is a direction between two members: from's bytes towards to.
type link struct{ from, to int }

// netFaults is one immutable snapshot of the network faults beyond
// partitions. A nil *netFaults means none; its methods accept nil.
type netFaults struct {
	delay   map[int]time.Duration // per member, on every link touching it
	drop    map[int]float64       // per member, on every link touching it
	cut     map[link]bool         // one-way cuts
	changed chan struct{}         // closed when a newer snapshot replaces this one
}

func (f *netFaults) clone() *netFaults {
	g := &netFaults{delay: map[int]time.Duration{}, drop: map[int]float64{}, cut: map[link]bool{}, changed: make(chan struct{})}
	if f != nil {
		maps.Copy(g.delay, f.delay)
		maps.Copy(g.drop, f.drop)
		maps.Copy(g.cut, f.cut)
	}
	return g
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

func (f *netFaults) empty() bool {
	return f == nil || len(f.delay) == 0 && len(f.drop) == 0 && len(f.cut) == 0
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

// reaches reports whether from's raft messages reach to: neither cut one
// way nor lost entirely. Latency delays messages but they arrive.
func (f *netFaults) reaches(from, to int) bool {
	return f == nil || !f.cut[link{from, to}] && f.linkDrop(from, to) < 1
}

// verdict is what a proxy does with one chunk of peer traffic.
type verdict int

const (
	pass verdict = iota // forward it (after the link's delay)
	hole                // discard it: its direction is cut one way
	lose                // discard it and close the connection: lost
)

// judge decides the fate of a chunk going from member from to member to
// (-1: a peer the proxy could not attribute), given roll, a uniform random
// number in [0, 1) drawn for this chunk.
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

// direction is one half of a proxied connection.
type direction int

const (
	request  direction = iota // from the member that opened it to the proxy's member
	response                  // back from the proxy's member
)

// linkOf is the member-to-member direction of dir on a connection opened by
// sender to the proxy of member to.
func linkOf(dir direction, sender, to int) link {
	if dir == request {
		return link{sender, to}
	}
	return link{to, sender}
}

// pump copies one direction of pc, src to dst, applying the network faults
// to each chunk as it is read. It returns when src ends, a write fails, or
// a fault closes the connection.
func (p *peerProxy) pump(pc *proxyConn, dir direction, dst io.Writer, src io.Reader) {
	var line *delayLine // started on the first delayed chunk
	defer func() {
		if line != nil {
			line.finish()
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			at := time.Now()
			f := p.c.netf.Load()
			l := p.link(pc, dir, f)
			switch f.judge(l.from, l.to, rand.Float64()) {
			case lose:
				p.reset(pc)
				return
			case hole:
				if !p.hole(pc, dir, l) {
					p.closeConn(pc)
					return
				}
			default:
				if f.linkDelay(l.from, l.to) > 0 || line != nil && line.busy() {
					if line == nil {
						line = p.newDelayLine(pc, dir, dst)
					}
					if !line.push(bytes.Clone(buf[:n]), at) {
						return
					}
				} else if _, err := dst.Write(buf[:n]); err != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// link is the member-to-member direction of dir on pc under f. Placing a
// connection (pc.sender) reads the kernel's socket table, which is slow on
// a busy machine, so it is done only when the verdict can depend on it:
// when no other member's settings can outweigh those of the proxy's own
// member, the chunk is judged as that member's own (a self link: never
// cut, and its delay and loss are the member's).
func (p *peerProxy) link(pc *proxyConn, dir direction, f *netFaults) link {
	if !f.needsSender(p.to) {
		return link{p.to, p.to}
	}
	return linkOf(dir, pc.sender(p.c), p.to)
}

// reset closes pc both ways with a TCP reset, as a lost connection ends:
// no TIME_WAIT socket is left behind for each loss, which would slow down
// placing the next connections (see link).
func (p *peerProxy) reset(pc *proxyConn) {
	p.mu.Lock()
	backend := pc.backend
	p.mu.Unlock()
	for _, c := range []net.Conn{pc.raw, backend} {
		if tc, ok := c.(interface{ NetConn() net.Conn }); ok {
			c = tc.NetConn() // under TLS
		}
		if tcp, ok := c.(*net.TCPConn); ok {
			tcp.SetLinger(0)
		}
	}
	p.closeConn(pc)
}

// hole marks that dir of pc lost bytes to a one-way cut of l, and reports
// whether the cut still stands. When it was lifted meanwhile, the lifting
// scan (peerProxy.cut) may have missed the mark, so the caller closes the
// connection itself: its framing may be broken.
func (p *peerProxy) hole(pc *proxyConn, dir direction, l link) bool {
	pc.holed[dir].Store(true)
	f := p.c.netf.Load()
	return f != nil && f.cut[l]
}

// reopened reports whether pc lost bytes to a one-way cut that is lifted now.
func (p *peerProxy) reopened(pc *proxyConn) bool {
	f := p.c.netf.Load()
	for _, dir := range []direction{request, response} {
		if pc.holed[dir].Load() {
			l := linkOf(dir, pc.sender(p.c), p.to)
			if f == nil || !f.cut[l] {
				return true
			}
		}
	}
	return false
}

// delayLine delivers one direction's chunks at their time plus the link's
// current latency, in order, without holding up the reading of the next.
// A change of latency applies to chunks still waiting; Heal releases them.
type delayLine struct {
	p       *peerProxy
	pc      *proxyConn
	dir     direction
	dst     io.Writer
	in      chan delayed
	pending atomic.Int64 // pushed and not yet written
	exited  chan struct{}
}

type delayed struct {
	data []byte
	at   time.Time // when the proxy read it
}

func (p *peerProxy) newDelayLine(pc *proxyConn, dir direction, dst io.Writer) *delayLine {
	d := &delayLine{p: p, pc: pc, dir: dir, dst: dst, in: make(chan delayed, 1024), exited: make(chan struct{})}
	go d.run()
	return d
}

// busy reports whether chunks wait: the next one must queue behind them.
func (d *delayLine) busy() bool { return d.pending.Load() > 0 }

// push queues a chunk; false when the connection is closed.
func (d *delayLine) push(data []byte, at time.Time) bool {
	d.pending.Add(1)
	select {
	case d.in <- delayed{data, at}:
		return true
	case <-d.pc.done:
		return false
	}
}

// finish delivers what is queued, unless the connection closes first.
func (d *delayLine) finish() {
	close(d.in)
	select {
	case <-d.exited:
	case <-d.pc.done:
	}
}

func (d *delayLine) run() {
	defer close(d.exited)
	for c := range d.in {
		if !d.wait(c.at) {
			return
		}
		if _, err := d.dst.Write(c.data); err != nil {
			d.p.closeConn(d.pc)
			return
		}
		d.pending.Add(-1)
	}
}

// wait waits until a chunk read at at is due; false if the connection closed.
func (d *delayLine) wait(at time.Time) bool {
	for {
		f := d.p.c.netf.Load()
		l := d.p.link(d.pc, d.dir, f)
		wait := time.Until(at.Add(f.linkDelay(l.from, l.to)))
		if wait <= 0 {
			return true
		}
		var changed <-chan struct{} // nil: no faults, nothing to wait for but the timer
		if f != nil {
			changed = f.changed
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-changed:
		case <-d.pc.done:
			t.Stop()
			return false
		}
		t.Stop()
	}
}

// netFaultString describes the faults beyond partitions, e.g.
// "node1 -/-> {node2 node3}; delay 200ms {node1}; drop 30% {node2}", or "".
func (c *Cluster) netFaultString() string {
	f := c.netf.Load()
	if f == nil || c.Stopped() {
		return ""
	}
	name := func(i int) string {
		if i >= 0 && i < len(c.members) {
			return c.members[i].name
		}
		return "member" + strconv.Itoa(i)
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
