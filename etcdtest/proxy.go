package etcdtest

// A proxy forwards the TCP connections it accepts on a loopback port to one
// target, chunk by chunk, and its policy decides what happens to each
// connection and each chunk: forward it, delay it, black-hole it, lose it
// (with its connection), or refuse the connection. Every fault the toolkit
// injects into traffic acts here:
//
//   - In front of each member's peer listener (the member advertises the
//     proxy's URL, so all raft traffic passes through): the cluster's
//     partitions, one-way cuts, latency and loss (peerPolicy, faults.go).
//   - In front of members' client ports, for one client (ClientLink,
//     clientlink.go): a pulled cable, latency (linkPolicy).
//
// The proxy knows nothing of clusters; what it needs — how to tell who
// sent a connection, how to terminate TLS, what the faults are — comes in
// through its policy.

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// policy is what a proxy asks about the connections it forwards.
type policy interface {
	// serverConn returns what the proxy reads from and answers on, for a
	// connection it accepted: conn itself, or conn with TLS terminated.
	serverConn(conn net.Conn) net.Conn
	// backendConn wraps the proxy's connection to its target likewise.
	backendConn(conn net.Conn) net.Conn
	// readsHead reports whether connections carry HTTP whose request head
	// admit needs (raft traffic); otherwise bytes pass untouched.
	readsHead() bool
	// admit decides a new connection, given its request head (nil unless
	// readsHead). It is asked after the connection is tracked, so a fault
	// set from then on finds it in keep.
	admit(pc *proxyConn, head []byte) admission
	// judge decides one chunk going in dir on pc, given roll, a uniform
	// random number in [0, 1) drawn for this chunk.
	judge(pc *proxyConn, dir direction, roll float64) verdict
	// delay returns the latency to add now to pc's chunks going in dir,
	// and a channel closed when the policy changes (nil: it never does).
	delay(pc *proxyConn, dir direction) (time.Duration, <-chan struct{})
	// keep reports whether an open connection may stay open under the
	// policy as it is now; the proxy asks on every change (proxy.enforce)
	// and after a chunk of pc went into a black hole.
	keep(pc *proxyConn) bool
	// targetStarting reports whether the target runs but may not listen
	// yet, so a refused dial is worth retrying for a while.
	targetStarting() bool
}

// admission is what a proxy does with a new connection.
type admission int

const (
	forward     admission = iota // forward it, chunk by chunk, under the policy
	forwardFast                  // forward it at once: a probe, see probeGrace
	refuse                       // reset it unanswered
	notReady                     // answer 503 at once: see peerPolicy
)

// verdict is what a proxy does with one chunk.
type verdict int

const (
	pass verdict = iota // forward it (after the policy's delay)
	hole                // discard it: its direction is cut one way
	lose                // discard it and reset the connection: lost
)

// direction is one half of a proxied connection.
type direction int

const (
	request  direction = iota // from the side that opened it, to the target
	response                  // back from the target
)

// proxy forwards connections to target under pol.
type proxy struct {
	ln     net.Listener
	target string
	pol    policy

	mu     sync.Mutex
	conns  map[*proxyConn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// proxyConn is one connection through a proxy. raw is the accepted TCP
// connection: closing it ends the connection whatever wraps it (TLS).
// backend and closed are guarded by the proxy's mu.
type proxyConn struct {
	raw     net.Conn
	backend net.Conn
	closed  bool           // by a fault or its end: must not be connected to the target
	done    chan struct{}  // closed with closed
	holed   [2]atomic.Bool // per direction: bytes vanished into a black hole

	// Who opened the connection, for policies that judge by sender
	// (peerPolicy.sender): claimed is 1 + what the request head says, 0 for
	// nothing; from is what the kernel says, looked up once.
	claimed  atomic.Int32
	fromOnce sync.Once
	from     int
}

// testHookConnAdmitted, when set, runs after a connection was admitted and
// before it is connected to the target: a test sets a partition there to
// prove the connection does not outlive it.
var testHookConnAdmitted atomic.Pointer[func(p *proxy, raw net.Conn)]

// probeGrace is how long a peer's answer to a bootstrap probe may take
// before the proxy answers for it. A serving member answers in microseconds.
const probeGrace = 50 * time.Millisecond

const unavailable = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

func newProxy(target string, pol policy) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{ln: ln, target: target, pol: pol, conns: map[*proxyConn]struct{}{}}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.handle(conn)
			}()
		}
	}()
	return p, nil
}

// addr is the proxy's host:port.
func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) handle(raw net.Conn) {
	pc := &proxyConn{raw: raw, done: make(chan struct{})}
	// Tracked before it is admitted, so no fault can slip between the two:
	// a fault set after this point finds the connection in enforce, and
	// one set before it decides admit.
	if !p.track(pc) {
		return
	}
	defer p.untrack(pc)
	client := p.pol.serverConn(raw)
	defer client.Close() // before untrack: a TLS client gets its close_notify
	br := bufio.NewReader(client)
	var head []byte
	if p.pol.readsHead() {
		client.SetReadDeadline(time.Now().Add(10 * time.Second))
		h, err := readRequestHead(br)
		client.SetReadDeadline(time.Time{})
		if err != nil {
			return
		}
		head = h
	}
	how := p.pol.admit(pc, head)
	switch how {
	case refuse:
		// With a reset: etcd redials a cut peer every 100 ms, and each
		// closed connection would leave a TIME_WAIT socket behind.
		p.reset(pc)
		return
	case notReady:
		io.WriteString(client, unavailable)
		return
	}
	if hook := testHookConnAdmitted.Load(); hook != nil {
		(*hook)(p, raw)
	}
	backend, err := p.dial()
	if err != nil {
		return // the target is down: fail fast, as a dead peer would
	}
	if !p.attach(pc, backend) {
		return // cut while the target was dialled
	}
	if how == forwardFast {
		p.probe(client, backend, head, br)
		return
	}
	go func() {
		p.pump(pc, request, backend, io.MultiReader(bytes.NewReader(head), br))
		p.untrack(pc) // either side ending ends both
	}()
	p.pump(pc, response, client, backend)
}

// probe forwards a bootstrap probe, giving the target probeGrace to start
// answering and answering "not bootstrapped yet" (503) for it if it does
// not: a booting member probes its peers with a 1 s timeout while they
// already listen but do not serve yet, and would stall for all of it.
func (p *proxy) probe(client, backend net.Conn, head []byte, br *bufio.Reader) {
	if _, err := backend.Write(head); err != nil {
		return
	}
	go io.Copy(backend, br)
	backend.SetReadDeadline(time.Now().Add(probeGrace))
	buf := make([]byte, 32<<10)
	n, err := backend.Read(buf)
	if n == 0 {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			io.WriteString(client, unavailable)
		}
		return
	}
	backend.SetReadDeadline(time.Time{})
	if _, err := client.Write(buf[:n]); err != nil {
		return
	}
	io.Copy(client, backend)
}

// dial connects to the target. While the target runs but does not listen
// yet (a member booting), the dial is retried for a while instead of
// failing: a refused peer stream makes etcd wait 100 ms before it tries
// again, which would cost every boot and restart an election round.
func (p *proxy) dial() (net.Conn, error) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", p.target, time.Second)
		if err == nil {
			return p.pol.backendConn(conn), nil
		}
		if time.Now().After(deadline) || !p.pol.targetStarting() {
			return nil, err
		}
		time.Sleep(2 * time.Millisecond) // the target is starting; bounded by deadline
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

// pump copies one direction of pc, src to dst, as the policy judges each
// chunk it reads. It returns when src ends, a write fails, or the policy
// closes the connection.
func (p *proxy) pump(pc *proxyConn, dir direction, dst io.Writer, src io.Reader) {
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
			switch p.pol.judge(pc, dir, rand.Float64()) {
			case lose:
				p.reset(pc)
				return
			case hole:
				pc.holed[dir].Store(true)
				if !p.pol.keep(pc) {
					// The hole was lifted meanwhile, and the lifting scan
					// (enforce) may have missed the mark: the framing may
					// be broken, so the connection goes.
					p.closeConn(pc)
					return
				}
			default:
				if d, _ := p.pol.delay(pc, dir); d > 0 || line != nil && line.busy() {
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

func (p *proxy) track(pc *proxyConn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		pc.raw.Close()
		return false
	}
	p.conns[pc] = struct{}{}
	return true
}

// attach records the connection to the target, unless the connection was
// cut (or the proxy closed) meanwhile.
func (p *proxy) attach(pc *proxyConn, backend net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pc.closed || p.closed {
		backend.Close()
		return false
	}
	pc.backend = backend
	return true
}

func (p *proxy) untrack(pc *proxyConn) {
	p.mu.Lock()
	delete(p.conns, pc)
	p.mu.Unlock()
	p.closeConn(pc)
}

// closeConn closes both sides of pc and marks it closed.
func (p *proxy) closeConn(pc *proxyConn) {
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

// reset closes pc both ways with a TCP reset, as a lost connection ends:
// no TIME_WAIT socket is left behind for each loss, which would slow down
// placing the next connections (peerPolicy.sender).
func (p *proxy) reset(pc *proxyConn) {
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

// tracked returns the connections open now.
func (p *proxy) tracked() []*proxyConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Collect(maps.Keys(p.conns))
}

// enforce closes every connection the policy no longer keeps; call it
// after the policy changed.
func (p *proxy) enforce() {
	for _, pc := range p.tracked() {
		if !p.pol.keep(pc) {
			p.closeConn(pc)
		}
	}
}

// dropAll closes every connection, e.g. when the target dies.
func (p *proxy) dropAll() {
	for _, pc := range p.tracked() {
		p.closeConn(pc)
	}
}

// close stops accepting, closes every connection and waits for them.
func (p *proxy) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.ln.Close()
	p.dropAll()
	p.wg.Wait()
}

// delayLine delivers one direction's chunks at their time plus the
// policy's current latency, in order, without holding up the reading of the
// next. A change of latency applies to chunks still waiting.
type delayLine struct {
	p       *proxy
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

func (p *proxy) newDelayLine(pc *proxyConn, dir direction, dst io.Writer) *delayLine {
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
		delay, changed := d.p.pol.delay(d.pc, d.dir)
		wait := time.Until(at.Add(delay))
		if wait <= 0 {
			return true
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-changed: // nil: nothing to wait for but the timer
		case <-d.pc.done:
			t.Stop()
			return false
		}
		t.Stop()
	}
}

// tlsServer terminates TLS on conn with cfg; nil cfg passes conn through.
func tlsServer(conn net.Conn, cfg *tls.Config) net.Conn {
	if cfg == nil {
		return conn
	}
	return tls.Server(conn, cfg)
}

// tlsClient starts TLS on conn with cfg; nil cfg passes conn through.
func tlsClient(conn net.Conn, cfg *tls.Config) net.Conn {
	if cfg == nil {
		return conn
	}
	return tls.Client(conn, cfg)
}
