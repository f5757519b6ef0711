package proxy

import (
	"net"
	"sync"
	"sync/atomic"
)

// Conn is one connection through a proxy, as its policy sees it. raw is the
// accepted TCP connection: closing it ends the connection whatever wraps it
// (TLS). backend and closed are guarded by the proxy's mu.
type Conn struct {
	raw     net.Conn
	backend net.Conn
	closed  bool           // by a fault or its end: must not be connected to the target
	done    chan struct{}  // closed with closed
	holed   [2]atomic.Bool // per direction: bytes vanished into a black hole

	// Who opened the connection, for policies that judge by sender:
	// claimed is 1 + what the content says (SetPeer), 0 for nothing; peer
	// is what the policy's lookup says, asked once.
	claimed  atomic.Int32
	peerOnce sync.Once
	peer     int
}

func newConn(raw net.Conn) *Conn { return &Conn{raw: raw, done: make(chan struct{})} }

// Raw returns the TCP connection the proxy accepted (under TLS, if any).
func (c *Conn) Raw() net.Conn { return c.raw }

// Holed reports whether bytes going in dir vanished into a black hole
// (a Hole verdict) on this connection.
func (c *Conn) Holed(dir Direction) bool { return c.holed[dir].Load() }

// Done returns a channel closed when the connection is closed.
func (c *Conn) Done() <-chan struct{} { return c.done }

// SetPeer records who opened the connection, as the policy numbers the
// peers (0 or more), when the policy learns it from what the connection
// carries (a request header). Peer returns it from then on.
func (c *Conn) SetPeer(i int) { c.claimed.Store(int32(i) + 1) }

// Peer returns who opened the connection: what SetPeer recorded, else what
// lookup says of the raw connection, asked once per connection however
// often Peer is called (it may be slow: a read of the kernel's socket
// table). A negative number means nobody the policy knows.
func (c *Conn) Peer(lookup func(raw net.Conn) int) int {
	if i := c.claimed.Load(); i > 0 {
		return int(i) - 1
	}
	c.peerOnce.Do(func() { c.peer = lookup(c.raw) })
	return c.peer
}
