package netfault

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proxy"
)

// peerRig is member to's peer proxy under a fault store, in front of a
// target that records what reaches it, with every connection attributed to
// member sender: the peer policy over real TCP, without etcd.
type peerRig struct {
	faults *Store
	p      *proxy.Proxy
	got    chan stamped // what reached the target, when
}

type stamped struct {
	data string
	at   time.Time
}

func newPeerRig(t *testing.T, f *Faults, sender, to int) *peerRig {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	r := &peerRig{faults: &Store{}, got: make(chan stamped, 1000)}
	r.faults.Update(func(*Faults) *Faults { return f })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 32<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						r.got <- stamped{string(buf[:n]), time.Now()}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	pol := &PeerPolicy{
		To:       to,
		Faults:   r.faults,
		ByID:     func(uint64) int { return -1 },
		ByKernel: func(net.Conn) int { return sender },
		Booted:   func() bool { return true },
		Running:  func() bool { return false },
	}
	if r.p, err = proxy.New(ln.Addr().String(), pol); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.p.Close)
	return r
}

// post opens a connection to the proxy and sends a raft POST's head (the
// sender's own traffic, request direction), then body.
func (r *peerRig) post(t *testing.T, body string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", r.p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, "POST /raft HTTP/1.1\r\nHost: x\r\n\r\n"+body); err != nil {
		t.Fatal(err)
	}
	return conn
}

// received collects what reached the target within d.
func (r *peerRig) received(d time.Duration) string {
	var b strings.Builder
	deadline := time.After(d)
	for {
		select {
		case s := <-r.got:
			b.WriteString(s.data)
		case <-deadline:
			return b.String()
		}
	}
}

// closed reports whether conn was closed by the proxy within d.
func closed(conn net.Conn, d time.Duration) bool {
	conn.SetReadDeadline(time.Now().Add(d))
	_, err := conn.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// Latency holds member 0's POST to member 1 for the delay; Heal releases
// what still waits out a longer one at once.
func TestPeerDelayAndHeal(t *testing.T) {
	const d = 100 * time.Millisecond
	r := newPeerRig(t, (*Faults)(nil).WithDelay(d, 0), 0, 1)
	sent := time.Now()
	r.post(t, "body")
	s := <-r.got
	if lat := s.at.Sub(sent); lat < d {
		t.Errorf("the head arrived after %v, before the delay of %v", lat, d)
	}
	r = newPeerRig(t, (*Faults)(nil).WithDelay(time.Hour, 0), 0, 1)
	r.post(t, "held")
	if got := r.received(50 * time.Millisecond); got != "" {
		t.Fatalf("%q passed a delay of an hour", got)
	}
	r.faults.Clear()
	if got := r.received(200 * time.Millisecond); !strings.HasSuffix(got, "held") {
		t.Fatalf("after Heal the target got %q, want the delayed POST", got)
	}
}

// A one-way cut swallows the cut direction's bytes and keeps the
// connection; once it is lifted the connection is closed: the vanished
// bytes may have broken its framing.
func TestPeerOneWayCutBlackHolesThenClosesOnLift(t *testing.T) {
	r := newPeerRig(t, (*Faults)(nil).WithCut(Route{From: 0, To: 1}), 0, 1) // 0's POST to 1
	conn := r.post(t, "lost")
	if got := r.received(50 * time.Millisecond); got != "" {
		t.Fatalf("%q crossed a one-way cut", got)
	}
	r.p.Enforce()
	if closed(conn, 50*time.Millisecond) {
		t.Fatal("the cut stands, yet the connection was closed")
	}
	r.faults.Clear()
	r.p.Enforce()
	if !closed(conn, 5*time.Second) {
		t.Fatal("the cut was lifted, yet the connection with a hole in it stays open")
	}
}

// The way back of a cut flows: member 1's POST to member 0 under 0 -/-> 1.
func TestPeerOneWayCutLetsTheOtherWayThrough(t *testing.T) {
	r := newPeerRig(t, (*Faults)(nil).WithCut(Route{From: 0, To: 1}), 1, 0)
	r.post(t, "flows")
	if got := r.received(200 * time.Millisecond); !strings.HasSuffix(got, "flows") {
		t.Fatalf("the target got %q, want the POST", got)
	}
}

// A lost chunk takes its connection with it, never half of it.
func TestPeerDropClosesTheConnection(t *testing.T) {
	r := newPeerRig(t, (*Faults)(nil).WithDrop(1, 1), 0, 1)
	conn := r.post(t, "lost")
	if !closed(conn, 5*time.Second) {
		t.Fatal("the connection stayed open after a loss")
	}
	if got := r.received(50 * time.Millisecond); got != "" {
		t.Fatalf("%q was lost, yet arrived", got)
	}
}

func TestRequestHeadNamesTheSendingMember(t *testing.T) {
	head := []byte("GET /raft/stream/message/8e9e05c52164694d HTTP/1.1\r\nHost: 127.0.0.1:2380\r\n" +
		"X-Server-From: 2c2789dc26dd4334\r\nX-Raft-To: 8e9e05c52164694d\r\n\r\n")
	if id := sentBy(head); id != 0x2c2789dc26dd4334 {
		t.Errorf("X-Server-From = %x, want 2c2789dc26dd4334", id)
	}
	if id := sentBy([]byte("GET /version HTTP/1.1\r\nHost: x\r\n\r\n")); id != 0 {
		t.Errorf("a probe without the header names %x, want 0", id)
	}
}
