package etcdtest

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
)

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
		for _, arg := range c.args(m) {
			if strings.HasSuffix(arg, ":"+stolenPort) {
				t.Errorf("member %s still uses the stolen port: %s", m.Name(), arg)
			}
		}
	}
}

func TestReservedPortsAreDistinctAndHeldUntilReleased(t *testing.T) {
	a, err := reservePorts(20)
	if err != nil {
		t.Fatal(err)
	}
	b, err := reservePorts(20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range append(append([]int{}, a.ports...), b.ports...) {
		if seen[p] {
			t.Fatalf("port %d reserved twice", p)
		}
		if p < portLow || p >= portHigh {
			t.Fatalf("port %d outside %d-%d", p, portLow, portHigh)
		}
		seen[p] = true
	}
	dir, _ := portLockDir()
	if _, ok, _ := tryLock(dir + "/" + strconv.Itoa(a.ports[0])); ok {
		t.Fatal("a reserved port's lock could be taken again")
	}
	a.release()
	b.release()
}
