package etcdtest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
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
		t.Skip("partitions need Linux")
	}
	c := StartT(t, Config{})
	defer testHookConnAdmitted.Store(nil)
	l, err := c.local("test")
	if err != nil {
		t.Fatal(err)
	}
	target := l.members()[0].proxy
	for attempt := 1; ; attempt++ {
		caught := make(chan string, 1)
		hook := func(p *proxy, raw net.Conn) {
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
		testHookConnAdmitted.Store(&hook)
		conn, err := net.Dial("tcp", target.addr())
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
			testHookConnAdmitted.Store(nil)
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

// The direction rule of network faults, without etcd: on a connection
// member X opened to member Y's proxy, request bytes are X→Y traffic and
// response bytes Y→X. A raft stream is a GET opened by the receiver (its
// messages flow in the response), a pipeline a POST opened by the sender.
func TestNetFaultDirections(t *testing.T) {
	cut := &netFaults{cut: map[link]bool{{0, 1}: true}} // 0's messages do not reach 1
	lossy := &netFaults{drop: map[int]float64{2: 1, 1: 0.5}, delay: map[int]time.Duration{0: time.Second, 2: 3 * time.Second}}
	for _, tc := range []struct {
		name        string
		f           *netFaults
		dir         direction
		sender, to  int // who opened the connection, whose proxy took it
		roll        float64
		want        verdict
		wantReaches bool
		wantDelay   time.Duration
	}{
		{"no faults", nil, request, 0, 1, 0, pass, true, 0},
		{"1's stream from 0 (GET opened by 1 to 0): 0's messages in the response vanish", cut, response, 1, 0, 0, hole, false, 0},
		{"1's stream from 0: 1's GET itself still reaches 0", cut, request, 1, 0, 0, pass, true, 0},
		{"0's pipeline to 1 (POST opened by 0 to 1): the request vanishes", cut, request, 0, 1, 0, hole, false, 0},
		{"0's pipeline to 1: 1's answers would still reach 0", cut, response, 0, 1, 0, pass, true, 0},
		{"1's pipeline to 0 flows", cut, request, 1, 0, 0, pass, true, 0},
		{"0's stream from 1 flows", cut, response, 0, 1, 0, pass, true, 0},
		{"a link without a cut flows", cut, request, 2, 1, 0, pass, true, 0},
		{"a connection no member can be placed on is closed while a cut stands", cut, request, -1, 1, 0, lose, true, 0},
		{"drop 1 loses every chunk", lossy, response, 0, 2, 0.999, lose, false, 3 * time.Second},
		{"drop 0.5 loses a roll below it", lossy, request, 0, 1, 0.49, lose, true, time.Second},
		{"drop 0.5 keeps a roll above it", lossy, request, 0, 1, 0.5, pass, true, time.Second},
		{"an unplaced peer takes the placed end's loss and latency", lossy, response, -1, 1, 0.6, pass, true, 0},
		{"an unplaced peer takes the placed end's loss and latency (2)", lossy, request, -1, 2, 0, lose, false, 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := linkOf(tc.dir, tc.sender, tc.to)
			if got := tc.f.judge(l.from, l.to, tc.roll); got != tc.want {
				t.Errorf("judge(%d→%d, roll %v) = %v, want %v", l.from, l.to, tc.roll, got, tc.want)
			}
			if got := tc.f.reaches(l.from, l.to); got != tc.wantReaches {
				t.Errorf("reaches(%d→%d) = %v, want %v", l.from, l.to, got, tc.wantReaches)
			}
			if got := tc.f.linkDelay(l.from, l.to); got != tc.wantDelay {
				t.Errorf("linkDelay(%d→%d) = %v, want %v", l.from, l.to, got, tc.wantDelay)
			}
		})
	}
}

// pumpRig runs one direction of a proxied connection through pump with no
// etcd: the connection was opened by member sender to member to's proxy.
type pumpRig struct {
	f    *faultStore
	p    *proxy
	pc   *proxyConn
	in   *io.PipeWriter // what the source side writes
	got  chan stamped   // what reached the destination, when
	done chan struct{}  // pump returned
}

type stamped struct {
	data string
	at   time.Time
}

func newPumpRig(t *testing.T, f *netFaults, dir direction, sender, to int) *pumpRig {
	store := &faultStore{}
	store.update(func(g *netFaults) { *g = *f.clone() }) // a snapshot of its own, as the fault methods make
	raw, peer := net.Pipe()
	t.Cleanup(func() { raw.Close(); peer.Close() })
	pc := &proxyConn{raw: raw, done: make(chan struct{})}
	pc.fromOnce.Do(func() { pc.from = sender })
	pol := &peerPolicy{to: to, faults: store}
	r := &pumpRig{f: store, p: &proxy{pol: pol, conns: map[*proxyConn]struct{}{}}, pc: pc, got: make(chan stamped, 1000), done: make(chan struct{})}
	r.p.track(pc)
	src, in := io.Pipe()
	r.in = in
	dst := writerFunc(func(b []byte) (int, error) {
		r.got <- stamped{string(b), time.Now()}
		return len(b), nil
	})
	go func() { defer close(r.done); r.p.pump(pc, dir, dst, src) }()
	return r
}

type writerFunc func([]byte) (int, error)

func (w writerFunc) Write(b []byte) (int, error) { return w(b) }

func (r *pumpRig) next(t *testing.T, within time.Duration) stamped {
	t.Helper()
	select {
	case s := <-r.got:
		return s
	case <-time.After(within):
		t.Fatalf("nothing arrived within %v", within)
		return stamped{}
	}
}

// Latency holds each chunk for the delay after it was read, in order, and
// does not add up across chunks: 20 chunks written at once arrive about
// one delay later, not twenty.
func TestDelayHoldsEachChunkWithoutSerialising(t *testing.T) {
	const d = 100 * time.Millisecond
	r := newPumpRig(t, &netFaults{delay: map[int]time.Duration{0: d}}, request, 0, 1)
	sent := make([]time.Time, 20)
	for i := range sent {
		sent[i] = time.Now()
		if _, err := r.in.Write([]byte{byte('a' + i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range sent {
		s := r.next(t, 5*time.Second)
		if s.data != string(rune('a'+i)) {
			t.Fatalf("chunk %d is %q: out of order", i, s.data)
		}
		if lat := s.at.Sub(sent[i]); lat < d {
			t.Errorf("chunk %d arrived after %v, before the delay of %v", i, lat, d)
		}
	}
	if total := time.Since(sent[0]); total > 10*d {
		t.Errorf("20 chunks took %v: the delay was serialised per chunk", total)
	}
}

// Heal (no faults) releases chunks still waiting out a delay at once.
func TestHealReleasesDelayedChunks(t *testing.T) {
	r := newPumpRig(t, &netFaults{delay: map[int]time.Duration{1: time.Hour}}, response, 0, 1)
	r.in.Write([]byte("held"))
	select {
	case s := <-r.got:
		t.Fatalf("%q passed a delay of an hour", s.data)
	case <-time.After(50 * time.Millisecond): // long enough for an undelayed chunk to pass
	}
	r.f.clear()
	if s := r.next(t, 5*time.Second); s.data != "held" {
		t.Fatalf("got %q", s.data)
	}
	// And the next chunk passes straight through.
	r.in.Write([]byte("next"))
	if s := r.next(t, time.Second); s.data != "next" {
		t.Fatalf("got %q", s.data)
	}
}

// A one-way cut swallows the cut direction's bytes, keeps the connection,
// and once it is lifted the connection is closed: the vanished bytes may
// have broken its framing.
func TestOneWayCutBlackHolesThenClosesOnLift(t *testing.T) {
	cut := &netFaults{cut: map[link]bool{{0, 1}: true}}
	r := newPumpRig(t, cut, request, 0, 1) // 0's POST to 1
	r.in.Write([]byte("lost"))
	select {
	case s := <-r.got:
		t.Fatalf("%q crossed a one-way cut", s.data)
	case <-time.After(50 * time.Millisecond): // long enough for an uncut chunk to pass
	}
	if !r.pc.holed[request].Load() || r.pc.holed[response].Load() {
		t.Fatalf("holed marks %v %v, want the request direction only", r.pc.holed[request].Load(), r.pc.holed[response].Load())
	}
	if !r.p.pol.keep(r.pc) {
		t.Fatal("the cut stands, yet the connection is not kept")
	}
	r.f.clear()
	if r.p.pol.keep(r.pc) {
		t.Fatal("the cut was lifted, yet the connection with a hole in it is kept")
	}
	r.p.enforce()
	select {
	case <-r.pc.done:
	default:
		t.Fatal("cut left a connection with a hole in it open")
	}
}

// A lost chunk takes its connection with it, never half of it.
func TestDropClosesTheConnection(t *testing.T) {
	r := newPumpRig(t, &netFaults{drop: map[int]float64{1: 1}}, response, 0, 1)
	r.in.Write([]byte("lost"))
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		t.Fatal("pump did not end on a lost chunk")
	}
	select {
	case s := <-r.got:
		t.Fatalf("%q was lost, yet arrived", s.data)
	default:
	}
	if !isDone(r.pc.done) {
		t.Fatal("the connection stayed open after a loss")
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

// Placing a connection reads the kernel's socket table, slow on a busy
// machine: a proxy does it only when the member at the other end can
// change a chunk's fate.
func TestNetFaultsPlaceConnectionsOnlyWhenItMatters(t *testing.T) {
	all := &netFaults{delay: map[int]time.Duration{0: time.Second, 1: time.Second, 2: time.Second}, drop: map[int]float64{0: 0.5, 1: 0.5, 2: 0.5}}
	one := &netFaults{drop: map[int]float64{0: 1}}
	cut := &netFaults{cut: map[link]bool{{0, 1}: true}}
	for _, tc := range []struct {
		f    *netFaults
		to   int
		want bool
	}{
		{nil, 0, false},
		{all, 0, false}, // every member alike
		{one, 0, false}, // the proxy's own member loses everything anyway
		{one, 1, true},  // only member 0's connections are lost
		{cut, 0, true},
		{cut, 1, true},
		{cut, 2, false}, // no cut touches member 2
	} {
		if got := tc.f.needsSender(tc.to); got != tc.want {
			t.Errorf("%+v: needsSender(%d) = %v, want %v", tc.f, tc.to, got, tc.want)
		}
	}
}

func TestRequestHeadNamesTheSendingMember(t *testing.T) {
	req := "GET /raft/stream/message/8e9e05c52164694d HTTP/1.1\r\nHost: 127.0.0.1:2380\r\n" +
		"X-Server-From: 2c2789dc26dd4334\r\nX-Raft-To: 8e9e05c52164694d\r\n\r\nbody bytes"
	br := bufio.NewReader(strings.NewReader(req))
	head, err := readRequestHead(br)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(head), "\r\n\r\n") || strings.Contains(string(head), "body") {
		t.Errorf("head = %q, want the request line and headers up to the blank line", head)
	}
	if id := sentBy(head); id != 0x2c2789dc26dd4334 {
		t.Errorf("X-Server-From = %x, want 2c2789dc26dd4334", id)
	}
	if id := sentBy([]byte("GET /version HTTP/1.1\r\nHost: x\r\n\r\n")); id != 0 {
		t.Errorf("a probe without the header names %x, want 0", id)
	}
	if head, err := readRequestHead(bufio.NewReader(strings.NewReader("\x16\x03\x01 not HTTP"))); err != nil || head != nil {
		t.Errorf("non-HTTP traffic: head %q, err %v; want nothing read", head, err)
	}
}
