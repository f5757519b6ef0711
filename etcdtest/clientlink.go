package etcdtest

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// ClientLink is one client's own route to the cluster: a proxy in front of
// each member that the test can cut while the cluster itself stays healthy.
// Use it to make an etcd client — and whatever runs on it, such as an
// election node — lose the cluster:
//
//	link, err := cluster.NewClientLink()
//	node, err := locker.New(link.Client(), "/election")
//	...
//	link.Cut()     // the node's keep-alives vanish; its lease expires
//	link.Restore() // it reconnects
//
// Cut is a black hole, like a pulled cable: connections stay open and bytes
// vanish, so the client learns nothing until its own timeouts fire.
type ClientLink struct {
	c       *Cluster
	proxies []*linkProxy
	client  *clientv3.Client
	cut     atomic.Bool
	delay   atomic.Int64 // nanoseconds added before each forwarded chunk, both ways
	once    sync.Once
}

// NewClientLink returns a link to the given members (all when none are
// given) and a client that uses it. Cluster.Stop closes it. The client is
// configured like Member.Client: the cluster's TLS (which passes through
// the link end to end) and credentials, and Config.CallTimeout for calls
// without a deadline.
func (c *Cluster) NewClientLink(members ...int) (*ClientLink, error) {
	if err := c.checkLocal("NewClientLink"); err != nil {
		return nil, err
	}
	if len(members) == 0 {
		for i := range c.members {
			members = append(members, i)
		}
	}
	l := &ClientLink{c: c}
	var eps []string
	for _, i := range members {
		if i < 0 || i >= len(c.members) {
			l.Close()
			return nil, fmt.Errorf("etcdtest: NewClientLink: no member %d; use 0..%d", i, len(c.members)-1)
		}
		p, err := newLinkProxy(l, fmt.Sprintf("127.0.0.1:%d", c.members[i].clientPort))
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("etcdtest: NewClientLink: %w", err)
		}
		l.proxies = append(l.proxies, p)
		eps = append(eps, c.scheme()+"://"+p.ln.Addr().String())
	}
	// The proxies forward raw TCP, so TLS runs end to end between the
	// client and the member, and the member's certificate (for 127.0.0.1)
	// matches the proxy's address too.
	cli, err := c.newClient(eps)
	if err != nil {
		l.Close()
		return nil, err
	}
	l.client = cli
	c.faultMu.Lock()
	c.links = append(c.links, l)
	c.faultMu.Unlock()
	return l, nil
}

// Client returns the client that reaches the cluster through this link.
// Close (or Cluster.Stop) closes it.
func (l *ClientLink) Client() *clientv3.Client { return l.client }

// Endpoints returns the link's URLs, one per member it leads to.
func (l *ClientLink) Endpoints() []string {
	eps := make([]string, len(l.proxies))
	for i, p := range l.proxies {
		eps[i] = l.c.scheme() + "://" + p.ln.Addr().String()
	}
	return eps
}

// Cut makes the link a black hole: every byte either way is dropped, and
// new connections are accepted and then ignored.
func (l *ClientLink) Cut() { l.cut.Store(true) }

// Restore ends a Cut. Connections that lived through it are closed (bytes
// were lost mid-stream), so the client reconnects afresh at once.
func (l *ClientLink) Restore() {
	if l.cut.Swap(false) {
		for _, p := range l.proxies {
			p.dropAll()
		}
	}
}

// IsCut reports whether the link is cut.
func (l *ClientLink) IsCut() bool { return l.cut.Load() }

// Delay adds d of latency to every chunk of data forwarded either way; 0 removes it.
func (l *ClientLink) Delay(d time.Duration) { l.delay.Store(int64(d)) }

// Close closes the link's client and proxies. It is idempotent.
func (l *ClientLink) Close() error {
	l.once.Do(func() {
		if l.client != nil {
			l.client.Close()
		}
		for _, p := range l.proxies {
			p.Close()
		}
	})
	return nil
}

// linkProxy forwards connections to one member's client port.
type linkProxy struct {
	l      *ClientLink
	ln     net.Listener
	target string

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

func newLinkProxy(l *ClientLink, target string) (*linkProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &linkProxy{l: l, ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

func (p *linkProxy) serve() {
	defer p.wg.Done()
	acceptLoop(p.ln, &p.wg, p.handle)
}

func (p *linkProxy) handle(client net.Conn) {
	if !p.track(client) {
		return
	}
	defer p.untrack(client)
	backend, err := net.DialTimeout("tcp", p.target, time.Second)
	if err != nil {
		return // the member is down: the client sees a closed connection
	}
	if !p.track(backend) {
		return
	}
	defer p.untrack(backend)
	done := make(chan struct{}, 2)
	go func() { p.pipe(backend, client); done <- struct{}{} }()
	go func() { p.pipe(client, backend); done <- struct{}{} }()
	<-done // either side ending ends both (the deferred untracks close them)
}

// pipe copies src to dst, dropping what arrives while the link is cut.
func (p *linkProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.l.cut.Load() {
			if d := time.Duration(p.l.delay.Load()); d > 0 {
				time.Sleep(d) // injected latency, not a wait for state
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *linkProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *linkProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *linkProxy) dropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

func (p *linkProxy) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.ln.Close()
	p.dropAll()
	p.wg.Wait()
}
