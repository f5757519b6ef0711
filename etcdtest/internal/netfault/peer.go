package netfault

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proxy"
)

// PeerPolicy is how the proxy in front of member To's peer listener treats
// raft traffic: under the cluster's network faults (a Store), judged per
// route between two members. It also makes boots fast: a booting member
// probes its peers' /members with a 1 s timeout (etcdserver
// isMemberBootstrapped) while those peers already listen but do not yet
// serve; with members started together that stalls boots by 1-2 s at
// random. Until the cluster has booted, such a probe is answered "not
// bootstrapped yet" (503) at once, which is the truth: no peer can know the
// prober yet; after, a probe the member does not answer within
// proxy.ProbeGrace gets the same answer.
type PeerPolicy struct {
	To     int    // the index of the member behind the proxy
	Faults *Store // the cluster's network faults
	// TLS the proxy terminates from members, and starts towards its own
	// member (nil without TLS): the proxy reads the HTTP inside.
	ServerTLS, BackendTLS *tls.Config
	// ByID is the index of the member with raft ID id, or -1.
	ByID func(id uint64) int
	// ByKernel is the index of the member whose process opened conn, or -1
	// (over proc.ConnOwner).
	ByKernel func(conn net.Conn) int
	Booted   func() bool // every member has served once
	Running  func() bool // member To's process runs
}

// ServerConn, BackendConn, ReadsHead and TargetStarting are the
// proxy.Policy's: TLS terminated both ways, heads read, and a target that
// is starting when its process runs.
func (p *PeerPolicy) ServerConn(conn net.Conn) net.Conn  { return proxy.TLSServer(conn, p.ServerTLS) }
func (p *PeerPolicy) BackendConn(conn net.Conn) net.Conn { return proxy.TLSClient(conn, p.BackendTLS) }
func (p *PeerPolicy) ReadsHead() bool                    { return true }
func (p *PeerPolicy) TargetStarting() bool               { return p.Running() }

// Admit places the connection by the member its raft request names
// (X-Server-From), refuses it across a partition, and picks out bootstrap
// probes.
func (p *PeerPolicy) Admit(pc *proxy.Conn, head []byte) proxy.Admission {
	if i := p.ByID(sentBy(head)); i >= 0 {
		pc.SetPeer(i)
	}
	if !p.allowed(pc, p.Faults.Load()) {
		return proxy.Refuse
	}
	switch {
	case bytes.HasPrefix(head, []byte("GET /members ")) && !p.Booted():
		return proxy.NotReady
	case (bytes.HasPrefix(head, []byte("GET /members ")) || bytes.HasPrefix(head, []byte("GET /version "))) &&
		!p.Faults.Load().ShapesTraffic():
		return proxy.ForwardFast
	}
	return proxy.Forward
}

// allowed reports whether the partition in f lets pc reach member To.
func (p *PeerPolicy) allowed(pc *proxy.Conn, f *Faults) bool {
	if !f.Partitioned() {
		return true
	}
	from := p.sender(pc)
	if from < 0 {
		// Only members dial peer URLs. One that cannot be told apart is
		// refused while a partition stands: a partition must not leak, and
		// a refused peer connection is retried by etcd at once.
		return false
	}
	// Only the partition decides about whole connections: a one-way cut
	// keeps the other direction of a connection.
	return f.SameSide(from, p.To)
}

// Judge decides a chunk's fate under the current faults, per route.
func (p *PeerPolicy) Judge(pc *proxy.Conn, dir proxy.Direction, roll float64) proxy.Verdict {
	f := p.Faults.Load()
	l := p.route(pc, dir, f)
	return f.Judge(l.From, l.To, roll)
}

// Delay is the latency of a chunk's route, and when to look again.
func (p *PeerPolicy) Delay(pc *proxy.Conn, dir proxy.Direction) (time.Duration, <-chan struct{}) {
	f := p.Faults.Load()
	if f == nil {
		return 0, nil
	}
	l := p.route(pc, dir, f)
	return f.RouteDelay(l.From, l.To), f.Changed()
}

// Keep closes connections a new partition cuts, and those that lost bytes
// to a one-way cut that is lifted now.
func (p *PeerPolicy) Keep(pc *proxy.Conn) bool {
	f := p.Faults.Load()
	if !p.allowed(pc, f) {
		return false
	}
	for _, dir := range []proxy.Direction{proxy.Request, proxy.Response} {
		if pc.Holed(dir) {
			if l := RouteOf(dir, p.sender(pc), p.To); !f.IsCut(l) {
				return false
			}
		}
	}
	return true
}

// route is the member-to-member direction of dir on pc under f. Placing a
// connection (sender) reads the kernel's socket table, which is slow on a
// busy machine, so it is done only when the verdict can depend on it: when
// no other member's settings can outweigh those of the proxy's own member,
// the chunk is judged as that member's own (a self route: never cut, and
// its delay and loss are the member's).
func (p *PeerPolicy) route(pc *proxy.Conn, dir proxy.Direction, f *Faults) Route {
	if !f.NeedsSender(p.To) {
		return Route{From: p.To, To: p.To}
	}
	return RouteOf(dir, p.sender(pc), p.To)
}

// sender returns the index of the member that opened the connection, or -1.
// Raft's own requests (streams, pipelined messages, snapshots) say who
// sends them in their X-Server-From header; for the rest (lease
// forwarding, version and membership probes) the kernel is asked, once, on
// first need (only network faults need it): that reads /proc/net/tcp,
// whose size grows with every socket on the machine and whose chunked
// reads can miss a fresh connection while sockets come and go.
func (p *PeerPolicy) sender(pc *proxy.Conn) int {
	return pc.Peer(func(raw net.Conn) int {
		from := p.ByKernel(raw)
		// /proc/net/tcp is read in chunks, not atomically: with many sockets
		// on the machine a fresh connection can be missed. Look again.
		for try := 0; from < 0 && try < 3; try++ {
			time.Sleep(time.Millisecond) // a bounded re-read, not a wait for state
			from = p.ByKernel(raw)
		}
		return from
	})
}

// sentBy returns the member ID (hex, as etcd writes it) that a raft
// request's head names in its X-Server-From header, or 0.
func sentBy(head []byte) uint64 {
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head)))
	if err != nil {
		return 0
	}
	id, _ := strconv.ParseUint(req.Header.Get("X-Server-From"), 16, 64)
	return id
}
