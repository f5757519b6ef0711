package etcdtest

import (
	"bufio"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

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
