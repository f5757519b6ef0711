package proxy

// Each accepted connection is tracked before its policy admits it, so that
// a fault set at any moment finds it (Enforce); then it is dialled through
// to the target and pumped both ways, each chunk judged by the policy.

import (
	"bufio"
	"bytes"
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

// Proxy forwards connections to target under pol.
type Proxy struct {
	ln     net.Listener
	target string
	pol    Policy

	mu     sync.Mutex
	conns  map[*Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// TestHookConnAdmitted, when set, runs after a connection was admitted and
// before it is connected to the target: a test sets a partition there to
// prove the connection does not outlive it.
var TestHookConnAdmitted atomic.Pointer[func(p *Proxy, raw net.Conn)]

// ProbeGrace is how long a peer's answer to a bootstrap probe may take
// before the proxy answers for it. A serving member answers in microseconds.
const ProbeGrace = 50 * time.Millisecond

const unavailable = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

// New listens on a free loopback port and forwards what it accepts to
// target under pol, until Close.

// headTimeout bounds reading a request's head (ReadsHead): a member sends
// it at once; a connection that sends nothing is dropped after it.
const headTimeout = 10 * time.Second

func New(target string, pol Policy) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, pol: pol, conns: map[*Conn]struct{}{}}
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

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

func (p *Proxy) handle(raw net.Conn) {
	pc := newConn(raw)
	// Tracked before it is admitted, so no fault can slip between the two:
	// a fault set after this point finds the connection in enforce, and
	// one set before it decides admit.
	if !p.track(pc) {
		return
	}
	defer p.untrack(pc)
	client := p.pol.ServerConn(raw)
	defer client.Close() // before untrack: a TLS client gets its close_notify
	br := bufio.NewReader(client)
	var head []byte
	if p.pol.ReadsHead() {
		client.SetReadDeadline(time.Now().Add(headTimeout))
		h, err := readRequestHead(br)
		client.SetReadDeadline(time.Time{})
		if err != nil {
			return
		}
		head = h
	}
	how := p.pol.Admit(pc, head)
	switch how {
	case Refuse:
		// With a reset: etcd redials a cut peer every 100 ms, and each
		// closed connection would leave a TIME_WAIT socket behind.
		p.reset(pc)
		return
	case NotReady:
		io.WriteString(client, unavailable)
		return
	}
	if hook := TestHookConnAdmitted.Load(); hook != nil {
		(*hook)(p, raw)
	}
	backend, err := p.dial()
	if err != nil {
		return // the target is down: fail fast, as a dead peer would
	}
	if !p.attach(pc, backend) {
		return // cut while the target was dialled
	}
	if how == ForwardFast {
		p.probe(client, backend, head, br)
		return
	}
	go func() {
		p.pump(pc, Request, backend, io.MultiReader(bytes.NewReader(head), br))
		p.untrack(pc) // either side ending ends both
	}()
	p.pump(pc, Response, client, backend)
}

// probe forwards a bootstrap probe, giving the target ProbeGrace to start
// answering and answering "not bootstrapped yet" (503) for it if it does
// not: a booting member probes its peers with a 1 s timeout while they
// already listen but do not serve yet, and would stall for all of it.
func (p *Proxy) probe(client, backend net.Conn, head []byte, br *bufio.Reader) {
	if _, err := backend.Write(head); err != nil {
		return
	}
	go io.Copy(backend, br)
	backend.SetReadDeadline(time.Now().Add(ProbeGrace))
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
func (p *Proxy) dial() (net.Conn, error) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", p.target, time.Second)
		if err == nil {
			return p.pol.BackendConn(conn), nil
		}
		if time.Now().After(deadline) || !p.pol.TargetStarting() {
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
func (p *Proxy) pump(pc *Conn, dir Direction, dst io.Writer, src io.Reader) {
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
			switch p.pol.Judge(pc, dir, rand.Float64()) {
			case Lose:
				p.reset(pc)
				return
			case Hole:
				pc.holed[dir].Store(true)
				if !p.pol.Keep(pc) {
					// The hole was lifted meanwhile, and the lifting scan
					// (Enforce) may have missed the mark: the framing may
					// be broken, so the connection goes.
					p.closeConn(pc)
					return
				}
			default:
				if pc.holed[dir].Load() {
					// Earlier bytes of this direction vanished: forwarding
					// more would hand the other end a stream with a gap,
					// which HTTP/2 reads as if nothing were missing (a
					// watch would skip the events it lost). The hole was
					// lifted before the connection was closed for it; close
					// it now, and the client reconnects and resumes.
					p.closeConn(pc)
					return
				}
				if d, _ := p.pol.Delay(pc, dir); d > 0 || line != nil && line.busy() {
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

func (p *Proxy) track(pc *Conn) bool {
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
func (p *Proxy) attach(pc *Conn, backend net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pc.closed || p.closed {
		backend.Close()
		return false
	}
	pc.backend = backend
	return true
}

func (p *Proxy) untrack(pc *Conn) {
	p.mu.Lock()
	delete(p.conns, pc)
	p.mu.Unlock()
	p.closeConn(pc)
}

// closeConn closes both sides of pc and marks it closed.
func (p *Proxy) closeConn(pc *Conn) {
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
// placing the next connections (a policy that looks up the sender).
func (p *Proxy) reset(pc *Conn) {
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
func (p *Proxy) tracked() []*Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Collect(maps.Keys(p.conns))
}

// Enforce closes every connection the policy no longer keeps; call it
// after the policy changed.
func (p *Proxy) Enforce() {
	for _, pc := range p.tracked() {
		if !p.pol.Keep(pc) {
			p.closeConn(pc)
		}
	}
}

// DropAll closes every connection, e.g. when the target dies.
func (p *Proxy) DropAll() {
	for _, pc := range p.tracked() {
		p.closeConn(pc)
	}
}

// Close stops accepting, closes every connection and waits for them.
func (p *Proxy) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.ln.Close()
	p.DropAll()
	p.wg.Wait()
}
