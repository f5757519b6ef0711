package etcdtest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/netfault"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proxy"
)

// peerPolicy is how the proxy in front of member to's peer listener treats
// raft traffic: under the cluster's network faults (faultstore.go), judged per
// route between two members. It also makes boots fast: a booting member
// probes its peers' /members with a 1 s timeout (etcdserver
// isMemberBootstrapped) while those peers already listen but do not yet
// serve; with members started together that stalls boots by 1-2 s at
// random. Until the cluster has booted, such a probe is answered "not
// bootstrapped yet" (503) at once, which is the truth: no peer can know the
// prober yet; after, a probe the member does not answer within
// proxy.ProbeGrace gets the same answer.
type peerPolicy struct {
	to     int
	faults *faultStore
	// TLS the proxy terminates from members, and starts towards its own
	// member (nil without TLS): the proxy reads the HTTP inside.
	serverTLS, backendTLS *tls.Config
	// byID is the index of the member with raft ID id, or -1.
	byID func(id uint64) int
	// byKernel is the index of the member whose process opened conn, or -1
	// (connSender, over proc.ConnOwner).
	byKernel func(conn net.Conn) int
	booted   func() bool // every member has served once
	running  func() bool // member to's process runs
}

func (l *local) peerPolicy(m *Member) *peerPolicy {
	return &peerPolicy{
		to:         m.index,
		faults:     &l.faults,
		serverTLS:  l.sec.peerIn,
		backendTLS: l.sec.peerTo,
		byID: func(id uint64) int {
			if m := l.memberByID(id); m != nil {
				return m.index
			}
			return -1
		},
		byKernel: func(conn net.Conn) int { return connSender(conn, l.members()) },
		booted:   l.booted.Load,
		running:  func() bool { return m.pid() != 0 },
	}
}

func (p *peerPolicy) ServerConn(conn net.Conn) net.Conn  { return proxy.TLSServer(conn, p.serverTLS) }
func (p *peerPolicy) BackendConn(conn net.Conn) net.Conn { return proxy.TLSClient(conn, p.backendTLS) }
func (p *peerPolicy) ReadsHead() bool                    { return true }
func (p *peerPolicy) TargetStarting() bool               { return p.running() }

// Admit places the connection by the member its raft request names
// (X-Server-From), refuses it across a partition, and picks out bootstrap
// probes.
func (p *peerPolicy) Admit(pc *proxy.Conn, head []byte) proxy.Admission {
	if i := p.byID(sentBy(head)); i >= 0 {
		pc.SetPeer(i)
	}
	if !p.allowed(pc, p.faults.load()) {
		return proxy.Refuse
	}
	switch {
	case bytes.HasPrefix(head, []byte("GET /members ")) && !p.booted():
		return proxy.NotReady
	case (bytes.HasPrefix(head, []byte("GET /members ")) || bytes.HasPrefix(head, []byte("GET /version "))) &&
		!p.faults.load().ShapesTraffic():
		return proxy.ForwardFast
	}
	return proxy.Forward
}

// allowed reports whether the partition in f lets pc reach member to.
func (p *peerPolicy) allowed(pc *proxy.Conn, f *netfault.Faults) bool {
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
	return f.SameSide(from, p.to)
}

func (p *peerPolicy) Judge(pc *proxy.Conn, dir proxy.Direction, roll float64) proxy.Verdict {
	f := p.faults.load()
	l := p.route(pc, dir, f)
	return f.Judge(l.From, l.To, roll)
}

func (p *peerPolicy) Delay(pc *proxy.Conn, dir proxy.Direction) (time.Duration, <-chan struct{}) {
	f := p.faults.load()
	if f == nil {
		return 0, nil
	}
	l := p.route(pc, dir, f)
	return f.RouteDelay(l.From, l.To), f.Changed()
}

// Keep closes connections a new partition cuts, and those that lost bytes
// to a one-way cut that is lifted now.
func (p *peerPolicy) Keep(pc *proxy.Conn) bool {
	f := p.faults.load()
	if !p.allowed(pc, f) {
		return false
	}
	for _, dir := range []proxy.Direction{proxy.Request, proxy.Response} {
		if pc.Holed(dir) {
			if l := netfault.RouteOf(dir, p.sender(pc), p.to); !f.IsCut(l) {
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
func (p *peerPolicy) route(pc *proxy.Conn, dir proxy.Direction, f *netfault.Faults) netfault.Route {
	if !f.NeedsSender(p.to) {
		return netfault.Route{From: p.to, To: p.to}
	}
	return netfault.RouteOf(dir, p.sender(pc), p.to)
}

// sender returns the index of the member that opened the connection, or -1.
// Raft's own requests (streams, pipelined messages, snapshots) say who
// sends them in their X-Server-From header; for the rest (lease
// forwarding, version and membership probes) the kernel is asked, once, on
// first need (only network faults need it): that reads /proc/net/tcp,
// whose size grows with every socket on the machine and whose chunked
// reads can miss a fresh connection while sockets come and go.
func (p *peerPolicy) sender(pc *proxy.Conn) int {
	return pc.Peer(func(raw net.Conn) int {
		from := p.byKernel(raw)
		// /proc/net/tcp is read in chunks, not atomically: with many sockets
		// on the machine a fresh connection can be missed. Look again.
		for try := 0; from < 0 && try < 3; try++ {
			time.Sleep(time.Millisecond) // a bounded re-read, not a wait for state
			from = p.byKernel(raw)
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
