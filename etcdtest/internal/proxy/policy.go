package proxy

import (
	"net"
	"time"
)

// Policy is what a proxy asks about the connections it forwards.
type Policy interface {
	// ServerConn returns what the proxy reads from and answers on, for a
	// connection it accepted: conn itself, or conn with TLS terminated.
	ServerConn(conn net.Conn) net.Conn
	// BackendConn wraps the proxy's connection to its target likewise.
	BackendConn(conn net.Conn) net.Conn
	// ReadsHead reports whether connections carry HTTP whose request head
	// Admit needs (raft traffic); otherwise bytes pass untouched.
	ReadsHead() bool
	// Admit decides a new connection, given its request head (nil unless
	// ReadsHead). It is asked after the connection is tracked, so a fault
	// set from then on finds it in Keep.
	Admit(c *Conn, head []byte) Admission
	// Judge decides one chunk going in dir on c, given roll, a uniform
	// random number in [0, 1) drawn for this chunk.
	Judge(c *Conn, dir Direction, roll float64) Verdict
	// Delay returns the latency to add now to c's chunks going in dir,
	// and a channel closed when the policy changes (nil: it never does).
	Delay(c *Conn, dir Direction) (time.Duration, <-chan struct{})
	// Keep reports whether an open connection may stay open under the
	// policy as it is now; the proxy asks on every change (Proxy.Enforce)
	// and after a chunk of c went into a black hole.
	Keep(c *Conn) bool
	// TargetStarting reports whether the target runs but may not listen
	// yet, so a refused dial is worth retrying for a while.
	TargetStarting() bool
}

// Admission is what a proxy does with a new connection.
type Admission int

const (
	Forward     Admission = iota // forward it, chunk by chunk, under the policy
	ForwardFast                  // forward it at once: a probe, see ProbeGrace
	Refuse                       // reset it unanswered
	NotReady                     // answer 503 at once: the target cannot know the sender yet
)

// Verdict is what a proxy does with one chunk.
type Verdict int

const (
	Pass Verdict = iota // forward it (after the policy's delay)
	Hole                // discard it: its direction is cut one way
	Lose                // discard it and reset the connection: lost
)

// Direction is one half of a proxied connection.
type Direction int

const (
	Request  Direction = iota // from the side that opened it, to the target
	Response                  // back from the target
)
