package etcdtest

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
)

// The reservation itself is tested in internal/host; this is Start's part:
// what it does when a reserved port is taken from under it.

// An outsider that binds a reserved port between reservation and use makes
// the member fail with "address already in use"; Start must retry with fresh
// ports and succeed, and the retry must not use the stolen port.
func TestStartRetriesWhenAnOutsiderTakesAPort(t *testing.T) {
	var stolen net.Listener
	testHookPortsReserved = func(ports []int) {
		if stolen != nil {
			return // only the first attempt is sabotaged
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(ports[1])) // member 1's peer port
		if err != nil {
			t.Fatalf("take port %d: %v", ports[1], err)
		}
		stolen = l
	}
	defer func() { testHookPortsReserved = nil }()

	c, err := Start(context.Background(), Config{})
	if stolen != nil {
		defer stolen.Close()
	}
	if err != nil {
		t.Fatalf("Start did not recover from a stolen port: %v", err)
	}
	defer c.Stop(context.Background())
	_, stolenPort, _ := net.SplitHostPort(stolen.Addr().String())
	for _, m := range c.Members() {
		for _, arg := range m.l.args(m) {
			if strings.HasSuffix(arg, ":"+stolenPort) {
				t.Errorf("member %s still uses the stolen port: %s", m.Name(), arg)
			}
		}
	}
}
