package proxy

import (
	"net"
	"sync/atomic"
	"time"
)

// Link is the Policy of one client's own route to a cluster
// (etcdtest.ClientLink): bytes pass untouched, TLS included, into a black
// hole while the link is cut, late by its latency both ways. It keeps
// every connection open through a cut: the caller drops them when the cut
// ends (bytes were lost mid-stream).
type Link struct {
	cut     atomic.Bool
	latency atomic.Int64                  // nanoseconds
	changed atomic.Pointer[chan struct{}] // closed when the latency changes
}

// NewLink returns a link that forwards everything at once.
func NewLink() *Link {
	p := &Link{}
	p.changed.Store(newChanged())
	return p
}

func newChanged() *chan struct{} {
	ch := make(chan struct{})
	return &ch
}

// SetCut cuts the link (on) or ends the cut, and reports whether it was cut.
func (p *Link) SetCut(on bool) (was bool) { return p.cut.Swap(on) }

// Cut reports whether the link is cut.
func (p *Link) Cut() bool { return p.cut.Load() }

// SetLatency makes d the latency of every chunk from now on, chunks
// already waiting included; 0 removes it.
func (p *Link) SetLatency(d time.Duration) {
	p.latency.Store(int64(d))
	close(*p.changed.Swap(newChanged()))
}

// Latency returns the link's latency.
func (p *Link) Latency() time.Duration { return time.Duration(p.latency.Load()) }

// ServerConn is conn: TLS passes through a link end to end.
func (p *Link) ServerConn(conn net.Conn) net.Conn { return conn }

// BackendConn is conn, as ServerConn.
func (p *Link) BackendConn(conn net.Conn) net.Conn { return conn }

// ReadsHead is false: a client's bytes pass untouched.
func (p *Link) ReadsHead() bool { return false }

// Admit forwards every connection.
func (p *Link) Admit(*Conn, []byte) Admission { return Forward }

// TargetStarting is false: a link leads to running members.
func (p *Link) TargetStarting() bool { return false }

// Keep keeps every connection: the caller drops them when a cut ends.
func (p *Link) Keep(*Conn) bool { return true }

// Delay is the link's latency, both ways.
func (p *Link) Delay(*Conn, Direction) (time.Duration, <-chan struct{}) {
	return p.Latency(), *p.changed.Load()
}

// Judge holes every chunk while the link is cut.
func (p *Link) Judge(*Conn, Direction, float64) Verdict {
	if p.cut.Load() {
		return Hole
	}
	return Pass
}
