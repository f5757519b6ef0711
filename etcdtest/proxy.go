package etcdtest

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// peerProxy sits in front of one member's peer listener: the member
// advertises the proxy's URL, so every byte of raft traffic to it (streams,
// pipelined messages, snapshots, lease forwarding, version probes) passes
// through here. That gives the cluster two things:
//
//   - Partitions. Each connection is attributed to the member that opened
//     it (see connSender), and a cut link closes existing connections and
//     refuses new ones, in both directions because every member has a proxy.
//   - Network faults short of a partition: latency, loss and one-way cuts,
//     applied per direction to each chunk the proxy forwards (netfaults.go).
//   - A fast boot. A booting member probes its peers' /members with a 1 s
//     timeout (etcdserver isMemberBootstrapped) while those peers already
//     listen but do not yet serve; with members started together that stalls
//     boots by 1-2 s at random. The proxy answers a probe the peer does not
//     answer at once with 503, which etcd treats as "not bootstrapped yet".
type peerProxy struct {
	c      *Cluster
	to     int // index of the member behind this proxy
	ln     net.Listener
	target string // the member's real peer address

	mu     sync.Mutex
	conns  map[*proxyConn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// proxyConn is one connection through a peer proxy. raw is the accepted
// TCP connection: closing it ends the connection whatever wraps it (TLS).
// backend and closed are guarded by the proxy's mu.
type proxyConn struct {
	raw     net.Conn
	backend net.Conn
	closed  bool           // by a fault or its end: must not be connected to the member
	done    chan struct{}  // closed with closed
	holed   [2]atomic.Bool // per direction: bytes vanished in a one-way cut (netfaults.go)

	claimed  atomic.Int32 // 1 + index of the member its raft request names (X-Server-From), 0 for none
	fromOnce sync.Once
	from     int // sending member as the kernel knows it, or -1 for an outsider; see sender
}

// sender returns the index of the member that opened the connection, or -1.
// Raft's own requests (streams, pipelined messages, snapshots) say who
// sends them in their X-Server-From header; for the rest (lease
// forwarding, version and membership probes) the kernel is asked, once, on
// first need (only network faults need it): that reads /proc/net/tcp,
// whose size grows with every socket on the machine and whose chunked
// reads can miss a fresh connection while sockets come and go.
func (pc *proxyConn) sender(c *Cluster) int {
	if i := pc.claimed.Load(); i > 0 {
		return int(i) - 1
	}
	pc.fromOnce.Do(func() {
		pc.from = c.connSender(pc.raw)
		// /proc/net/tcp is read in chunks, not atomically: with many sockets
		// on the machine a fresh connection can be missed. Look again.
		for try := 0; pc.from < 0 && try < 3; try++ {
			time.Sleep(time.Millisecond) // a bounded re-read, not a wait for state
			pc.from = c.connSender(pc.raw)
		}
	})
	return pc.from
}

// testHookPeerConnAllowed, when set, runs after a peer connection passed
// the link check and before it is connected to the member: a test sets a
// partition there to prove the connection does not outlive it.
var testHookPeerConnAllowed atomic.Pointer[func(p *peerProxy, raw net.Conn)]

// probeGrace is how long a peer's answer to a bootstrap probe may take
// before the proxy answers for it. A serving member answers in microseconds.
const probeGrace = 50 * time.Millisecond

func newPeerProxy(c *Cluster, to int, target string) (*peerProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &peerProxy{c: c, to: to, ln: ln, target: target, conns: map[*proxyConn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

func (p *peerProxy) URL() string { return p.c.scheme() + "://" + p.ln.Addr().String() }

func (p *peerProxy) serve() {
	defer p.wg.Done()
	acceptLoop(p.ln, &p.wg, p.handle)
}

// acceptLoop hands every connection ln accepts to handle on a goroutine
// counted in wg, until ln is closed.
func acceptLoop(ln net.Listener, wg *sync.WaitGroup, handle func(net.Conn)) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			handle(conn)
		}()
	}
}

func (p *peerProxy) handle(raw net.Conn) {
	pc := &proxyConn{raw: raw, done: make(chan struct{})}
	// Tracked before the link is checked, so no fault can slip between the
	// two: a partition set after this point finds the connection in cut,
	// and one set before it fails the check.
	if !p.track(pc) {
		return
	}
	defer p.untrack(pc)
	// With TLS the proxy terminates it, to read the HTTP inside (tls.go).
	client := p.c.peerServerConn(raw)
	defer client.Close() // before untrack: a TLS client gets its close_notify
	// Read the request's head: its first line spots bootstrap probes, its
	// X-Server-From header names the sending member. Traffic that is not
	// HTTP passes untouched.
	br := bufio.NewReader(client)
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := readRequestHead(br)
	client.SetReadDeadline(time.Time{})
	if err != nil {
		return
	}
	if m := p.c.memberByID(sentBy(line)); m != nil {
		pc.claimed.Store(int32(m.index) + 1)
	}
	if !p.c.linkAllowed(pc, p.to) {
		// Refused with a reset: etcd redials a cut peer every 100 ms, and
		// each closed connection would leave a TIME_WAIT socket behind.
		p.reset(pc)
		return
	}
	if hook := testHookPeerConnAllowed.Load(); hook != nil {
		(*hook)(p, raw)
	}
	if isMembersProbe(line) && !p.c.booted.Load() {
		// A member of a new cluster probing its peers: none of them can
		// know it yet, so "not bootstrapped" is the true answer, now.
		io.WriteString(client, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		return
	}
	backend, err := p.dialBackend()
	if err != nil {
		return // member down: fail fast, as a dead peer would
	}
	if !p.attach(pc, backend) {
		return // cut while the member was dialled
	}
	if isProbe(line) && p.c.netf.Load() == nil {
		if _, err := backend.Write(line); err != nil {
			return
		}
		// Forward the rest of the request, then give the member probeGrace to start answering.
		go io.Copy(backend, br)
		backend.SetReadDeadline(time.Now().Add(probeGrace))
		buf := make([]byte, 32<<10)
		n, err := backend.Read(buf)
		if n == 0 {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				io.WriteString(client, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
			}
			return
		}
		backend.SetReadDeadline(time.Time{})
		if _, err := client.Write(buf[:n]); err != nil {
			return
		}
		io.Copy(client, backend)
		return
	}
	// From here on network faults apply, chunk by chunk (netfaults.go).
	go func() {
		p.pump(pc, request, backend, io.MultiReader(bytes.NewReader(line), br))
		p.untrack(pc) // either side ending ends both
	}()
	p.pump(pc, response, client, backend)
}

// dialBackend connects to the member. While its process runs but does not
// listen yet (it is booting), the dial is retried for a while instead of
// failing: a refused peer stream makes etcd wait 100 ms before it tries
// again, which would cost every boot and restart an election round.
func (p *peerProxy) dialBackend() (net.Conn, error) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", p.target, time.Second)
		if err == nil || time.Now().After(deadline) || p.c.members[p.to].pid() == 0 {
			return p.c.peerBackendConn(conn), err
		}
		time.Sleep(2 * time.Millisecond) // the member is booting; bounded by deadline
	}
}

// readRequestHead reads an HTTP request's line and headers, up to and
// including the blank line, when the connection starts like HTTP (a method
// in capitals); otherwise nothing.
func readRequestHead(br *bufio.Reader) ([]byte, error) {
	first, err := br.Peek(1)
	if err != nil || first[0] < 'A' || first[0] > 'Z' {
		return nil, err
	}
	var head []byte
	for len(head) < 64<<10 {
		line, err := br.ReadSlice('\n')
		head = append(head, line...)
		if err != nil {
			return head, err
		}
		if string(line) == "\r\n" || string(line) == "\n" {
			break
		}
	}
	return head, nil
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

func isMembersProbe(line []byte) bool { return bytes.HasPrefix(line, []byte("GET /members ")) }

func isProbe(line []byte) bool {
	return bytes.HasPrefix(line, []byte("GET /members ")) || bytes.HasPrefix(line, []byte("GET /version "))
}

func (p *peerProxy) track(pc *proxyConn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		pc.raw.Close()
		return false
	}
	p.conns[pc] = struct{}{}
	return true
}

// attach records the connection to the member, unless the connection was
// cut (or the proxy closed) meanwhile.
func (p *peerProxy) attach(pc *proxyConn, backend net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pc.closed || p.closed {
		backend.Close()
		return false
	}
	pc.backend = backend
	return true
}

func (p *peerProxy) untrack(pc *proxyConn) {
	p.mu.Lock()
	delete(p.conns, pc)
	p.mu.Unlock()
	p.closeConn(pc)
}

// closeConn closes both sides of pc and marks it closed.
func (p *peerProxy) closeConn(pc *proxyConn) {
	p.mu.Lock()
	if !pc.closed {
		close(pc.done)
	}
	pc.closed = true
	backend := pc.backend
	p.mu.Unlock()
	pc.raw.Close()
	if backend != nil {
		backend.Close()
	}
}

// tracked returns the connections open now.
func (p *peerProxy) tracked() []*proxyConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Collect(maps.Keys(p.conns))
}

// cut closes every connection the cluster's link policy no longer allows,
// and every one whose bytes vanished in a one-way cut that is lifted now.
func (p *peerProxy) cut() {
	for _, pc := range p.tracked() {
		if !p.c.linkAllowed(pc, p.to) || p.reopened(pc) {
			p.closeConn(pc)
		}
	}
}

// dropAll closes every connection, e.g. when the member behind it dies.
func (p *peerProxy) dropAll() {
	for _, pc := range p.tracked() {
		p.closeConn(pc)
	}
}

func (p *peerProxy) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.ln.Close()
	p.dropAll()
	p.wg.Wait()
}

// remotePort returns the port a connection comes from.
func remotePort(c net.Conn) int {
	_, port, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(port)
	return n
}
