package etcdtest

import (
	"bufio"
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
	defer testHookPeerConnAllowed.Store(nil)
	target := c.members[0].proxy
	for attempt := 1; ; attempt++ {
		caught := make(chan string, 1)
		hook := func(p *peerProxy, raw net.Conn) {
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
		testHookPeerConnAllowed.Store(&hook)
		conn, err := net.Dial("tcp", strings.TrimPrefix(target.URL(), "http://"))
		if err != nil {
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
			testHookPeerConnAllowed.Store(nil)
			if err := c.Heal(); err != nil {
				t.Fatal(err)
			}
			if attempt == 3 {
				t.Fatalf("3 attempts: the hook caught members' connections, never the test's")
			}
			continue
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Write([]byte("GET /version HTTP/1.1\r\nHost: etcd\r\n\r\n")); err != nil {
			return // closed already: cut
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
