package etcdtest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/netfault"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proxy"
)

// A connection a peer proxy accepted just before a partition was set must
// not outlive it, wherever the proxy is in handling it: the partition's cut
// has to find it. (It once could not: connections were tracked only once
// connected to the member, and a raft stream opened while a member was
// isolated kept the "isolated" leader's heartbeats flowing.) An outsider's
// connection — the test's own — is allowed without a partition and refused
// under any, so the hook sets a partition right after that connection
// passed the check, and the connection must then be closed unanswered.
func TestPartitionCutsAConnectionAcceptedJustBeforeIt(t *testing.T) {
	if !partitionsSupported {
		t.Skip("partitions need /proc or lsof")
	}
	c := StartT(t, Config{})
	defer proxy.TestHookConnAdmitted.Store(nil)
	l, err := c.local("test")
	if err != nil {
		t.Fatal(err)
	}
	target := l.members()[0].proxy
	for attempt := 1; ; attempt++ {
		caught := make(chan string, 1)
		hook := func(p *proxy.Proxy, raw net.Conn) {
			if p != target {
				return
			}
			select {
			case caught <- raw.RemoteAddr().String():
				if err := c.Isolate(1); err != nil {
					t.Error(err)
				}
			default: // a later connection: the partition is set already
			}
		}
		proxy.TestHookConnAdmitted.Store(&hook)
		conn, err := net.Dial("tcp", target.Addr())
		if err != nil {
			t.Fatal(err)
		}
		// The proxy reads a request's head before it judges the connection.
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Write([]byte("GET /version HTTP/1.1\r\nHost: etcd\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		var addr string
		select {
		case addr = <-caught:
		case <-time.After(5 * time.Second):
			t.Fatal("the proxy never handled the test's connection")
		}
		if addr != conn.LocalAddr().String() {
			// A member's connection was handled first; try again.
			conn.Close()
			proxy.TestHookConnAdmitted.Store(nil)
			if err := c.Heal(); err != nil {
				t.Fatal(err)
			}
			if attempt == 3 {
				t.Fatalf("3 attempts: the hook caught members' connections, never the test's")
			}
			continue
		}
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err == nil || line != "" {
			t.Fatalf("a connection accepted just before the partition reached the member: %q %v", line, err)
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("the connection was neither answered nor closed: %v", err)
		}
		conn.Close()
		return
	}
}

// peerRig is member to's peer proxy under a fault store, in front of a
// target that records what reaches it, with every connection attributed to
// member sender: the peer policy over real TCP, without etcd.
type peerRig struct {
	faults *faultStore
	p      *proxy.Proxy
	got    chan stamped // what reached the target, when
}

type stamped struct {
	data string
	at   time.Time
}

func newPeerRig(t *testing.T, f *netfault.Faults, sender, to int) *peerRig {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	r := &peerRig{faults: &faultStore{}, got: make(chan stamped, 1000)}
	r.faults.update(func(*netfault.Faults) *netfault.Faults { return f })
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
	pol := &peerPolicy{
		to:       to,
		faults:   r.faults,
		byID:     func(uint64) int { return -1 },
		byKernel: func(net.Conn) int { return sender },
		booted:   func() bool { return true },
		running:  func() bool { return false },
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
	r := newPeerRig(t, (*netfault.Faults)(nil).WithDelay(d, 0), 0, 1)
	sent := time.Now()
	r.post(t, "body")
	s := <-r.got
	if lat := s.at.Sub(sent); lat < d {
		t.Errorf("the head arrived after %v, before the delay of %v", lat, d)
	}
	r = newPeerRig(t, (*netfault.Faults)(nil).WithDelay(time.Hour, 0), 0, 1)
	r.post(t, "held")
	if got := r.received(50 * time.Millisecond); got != "" {
		t.Fatalf("%q passed a delay of an hour", got)
	}
	r.faults.clear()
	if got := r.received(200 * time.Millisecond); !strings.HasSuffix(got, "held") {
		t.Fatalf("after Heal the target got %q, want the delayed POST", got)
	}
}

// A one-way cut swallows the cut direction's bytes and keeps the
// connection; once it is lifted the connection is closed: the vanished
// bytes may have broken its framing.
func TestPeerOneWayCutBlackHolesThenClosesOnLift(t *testing.T) {
	r := newPeerRig(t, (*netfault.Faults)(nil).WithCut(netfault.Link{From: 0, To: 1}), 0, 1) // 0's POST to 1
	conn := r.post(t, "lost")
	if got := r.received(50 * time.Millisecond); got != "" {
		t.Fatalf("%q crossed a one-way cut", got)
	}
	r.p.Enforce()
	if closed(conn, 50*time.Millisecond) {
		t.Fatal("the cut stands, yet the connection was closed")
	}
	r.faults.clear()
	r.p.Enforce()
	if !closed(conn, 5*time.Second) {
		t.Fatal("the cut was lifted, yet the connection with a hole in it stays open")
	}
}

// The way back of a cut flows: member 1's POST to member 0 under 0 -/-> 1.
func TestPeerOneWayCutLetsTheOtherWayThrough(t *testing.T) {
	r := newPeerRig(t, (*netfault.Faults)(nil).WithCut(netfault.Link{From: 0, To: 1}), 1, 0)
	r.post(t, "flows")
	if got := r.received(200 * time.Millisecond); !strings.HasSuffix(got, "flows") {
		t.Fatalf("the target got %q, want the POST", got)
	}
}

// A lost chunk takes its connection with it, never half of it.
func TestPeerDropClosesTheConnection(t *testing.T) {
	r := newPeerRig(t, (*netfault.Faults)(nil).WithDrop(1, 1), 0, 1)
	conn := r.post(t, "lost")
	if !closed(conn, 5*time.Second) {
		t.Fatal("the connection stayed open after a loss")
	}
	if got := r.received(50 * time.Millisecond); got != "" {
		t.Fatalf("%q was lost, yet arrived", got)
	}
}

// Bad inputs name the cause and the fix, before anything changes.
func TestNetFaultBadInputs(t *testing.T) {
	ext := &Cluster{}
	var b backend = &external{}
	ext.b.Store(&b)
	for name, err := range map[string]error{
		"Delay":     ext.Delay(time.Second),
		"Drop":      ext.Drop(0.5),
		"CutOneWay": ext.CutOneWay([]int{0}, []int{1}),
	} {
		if !errors.Is(err, ErrExternal) || !strings.HasPrefix(err.Error(), name+": ") {
			t.Errorf("%s on an external cluster: %v, want %s: ErrExternal", name, err, name)
		}
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
