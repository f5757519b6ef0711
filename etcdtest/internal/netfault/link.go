package netfault

import (
	"net"
	"sync/atomic"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proxy"
)

// LinkPolicy is how a client link's proxies treat a client's traffic:
// bytes pass untouched (TLS included), into a black hole while the link is
// cut, late by the link's latency. The zero LinkPolicy forwards everything
// at full speed.
type LinkPolicy struct {
	cut     atomic.Bool
	latency atomic.Int64                  // nanoseconds, both ways
	changed atomic.Pointer[chan struct{}] // closed when latency changes; nil until asked for
}

// Cut makes the link a black hole.
func (p *LinkPolicy) Cut() { p.cut.Store(true) }

// Heal ends a cut; it reports whether the link was cut.
func (p *LinkPolicy) Heal() bool { return p.cut.Swap(false) }

// IsCut reports whether the link is cut.
func (p *LinkPolicy) IsCut() bool { return p.cut.Load() }

// Latency is the link's added latency, each way.
func (p *LinkPolicy) Latency() time.Duration { return time.Duration(p.latency.Load()) }

// SetLatency sets the added latency; chunks waiting now wait for the new one.
func (p *LinkPolicy) SetLatency(d time.Duration) {
	p.latency.Store(int64(d))
	if ch := p.changed.Swap(nil); ch != nil {
		close(*ch)
	}
}

// ServerConn, BackendConn, ReadsHead, Admit, TargetStarting and Keep are
// the proxy.Policy's: raw TCP both ways, every connection admitted and
// kept (the link's Heal drops what lived through a cut).
func (p *LinkPolicy) ServerConn(conn net.Conn) net.Conn         { return conn }
func (p *LinkPolicy) BackendConn(conn net.Conn) net.Conn        { return conn }
func (p *LinkPolicy) ReadsHead() bool                           { return false }
func (p *LinkPolicy) Admit(*proxy.Conn, []byte) proxy.Admission { return proxy.Forward }
func (p *LinkPolicy) TargetStarting() bool                      { return false }
func (p *LinkPolicy) Keep(*proxy.Conn) bool                     { return true }

// Delay is the link's latency, and a channel closed when it changes. It
// runs for every chunk, so it takes no lock: the channel is made on first
// need, and the latency read after it (SetLatency stores before it closes).
func (p *LinkPolicy) Delay(*proxy.Conn, proxy.Direction) (time.Duration, <-chan struct{}) {
	ch := p.changed.Load()
	for ch == nil {
		fresh := make(chan struct{})
		if p.changed.CompareAndSwap(nil, &fresh) {
			ch = &fresh
		} else {
			ch = p.changed.Load()
		}
	}
	return p.Latency(), *ch
}

// Judge drops every chunk while the link is cut.
func (p *LinkPolicy) Judge(*proxy.Conn, proxy.Direction, float64) proxy.Verdict {
	if p.cut.Load() {
		return proxy.Hole
	}
	return proxy.Pass
}
