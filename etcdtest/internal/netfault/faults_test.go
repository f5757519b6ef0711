package netfault

import (
	"fmt"
	"testing"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proxy"
)

// The direction rule of network faults: on a connection member X opened to
// member Y's proxy, request bytes are X→Y traffic and response bytes Y→X.
// A raft stream is a GET opened by the receiver (its messages flow in the
// response), a pipeline a POST opened by the sender.
func TestDirections(t *testing.T) {
	cut := (*Faults)(nil).WithCut(Route{0, 1}) // 0's messages do not reach 1
	lossy := (*Faults)(nil).WithDrop(1, 2).WithDrop(0.5, 1).WithDelay(time.Second, 0).WithDelay(3*time.Second, 2)
	for _, tc := range []struct {
		name        string
		f           *Faults
		dir         proxy.Direction
		sender, to  int // who opened the connection, whose proxy took it
		roll        float64
		want        proxy.Verdict
		wantReaches bool
		wantDelay   time.Duration
	}{
		{"no faults", nil, proxy.Request, 0, 1, 0, proxy.Pass, true, 0},
		{"1's stream from 0 (GET opened by 1 to 0): 0's messages in the response vanish", cut, proxy.Response, 1, 0, 0, proxy.Hole, false, 0},
		{"1's stream from 0: 1's GET itself still reaches 0", cut, proxy.Request, 1, 0, 0, proxy.Pass, true, 0},
		{"0's pipeline to 1 (POST opened by 0 to 1): the request vanishes", cut, proxy.Request, 0, 1, 0, proxy.Hole, false, 0},
		{"0's pipeline to 1: 1's answers would still reach 0", cut, proxy.Response, 0, 1, 0, proxy.Pass, true, 0},
		{"1's pipeline to 0 flows", cut, proxy.Request, 1, 0, 0, proxy.Pass, true, 0},
		{"0's stream from 1 flows", cut, proxy.Response, 0, 1, 0, proxy.Pass, true, 0},
		{"a route without a cut flows", cut, proxy.Request, 2, 1, 0, proxy.Pass, true, 0},
		{"a connection no member can be placed on is closed while a cut stands", cut, proxy.Request, -1, 1, 0, proxy.Lose, true, 0},
		{"drop 1 loses every chunk", lossy, proxy.Response, 0, 2, 0.999, proxy.Lose, false, 3 * time.Second},
		{"drop 0.5 loses a roll below it", lossy, proxy.Request, 0, 1, 0.49, proxy.Lose, true, time.Second},
		{"drop 0.5 keeps a roll above it", lossy, proxy.Request, 0, 1, 0.5, proxy.Pass, true, time.Second},
		{"an unplaced peer takes the placed end's loss and latency", lossy, proxy.Response, -1, 1, 0.6, proxy.Pass, true, 0},
		{"an unplaced peer takes the placed end's loss and latency (2)", lossy, proxy.Request, -1, 2, 0, proxy.Lose, false, 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := RouteOf(tc.dir, tc.sender, tc.to)
			if got := tc.f.Judge(l.From, l.To, tc.roll); got != tc.want {
				t.Errorf("Judge(%d→%d, roll %v) = %v, want %v", l.From, l.To, tc.roll, got, tc.want)
			}
			if got := tc.f.Reaches(l.From, l.To); got != tc.wantReaches {
				t.Errorf("Reaches(%d→%d) = %v, want %v", l.From, l.To, got, tc.wantReaches)
			}
			if got := tc.f.RouteDelay(l.From, l.To); got != tc.wantDelay {
				t.Errorf("RouteDelay(%d→%d) = %v, want %v", l.From, l.To, got, tc.wantDelay)
			}
		})
	}
}

// Placing a connection reads the kernel's socket table, slow on a busy
// machine: a proxy does it only when the member at the other end can
// change a chunk's fate.
func TestPlaceConnectionsOnlyWhenItMatters(t *testing.T) {
	var none *Faults
	all := none.WithDelay(time.Second, 0, 1, 2).WithDrop(0.5, 0, 1, 2)
	one := none.WithDrop(1, 0)
	cut := none.WithCut(Route{0, 1})
	for _, tc := range []struct {
		f    *Faults
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
		if got := tc.f.NeedsSender(tc.to); got != tc.want {
			t.Errorf("%+v: NeedsSender(%d) = %v, want %v", tc.f, tc.to, got, tc.want)
		}
	}
}

// A partition cuts both directions between its groups and none within
// them; one-way cuts and total loss cut a direction; latency and partial
// loss cut nothing.
func TestReaches(t *testing.T) {
	var none *Faults
	isolated := none.WithGroups([]int{1, 0, 0}) // member 0 apart
	split := none.WithGroups([]int{0, 0, 1, 1, 1})
	for _, tc := range []struct {
		name     string
		f        *Faults
		from, to int
		want     bool
	}{
		{"no faults", nil, 0, 1, true},
		{"isolated member to the others", isolated, 0, 1, false},
		{"the others to the isolated member", isolated, 2, 0, false},
		{"the others among themselves", isolated, 1, 2, true},
		{"within the two", split, 0, 1, true},
		{"within the three", split, 4, 2, true},
		{"across the split", split, 1, 3, false},
		{"a cut direction", none.WithCut(Route{0, 1}), 0, 1, false},
		{"the way back of a cut", none.WithCut(Route{0, 1}), 1, 0, true},
		{"latency delays but arrives", none.WithDelay(time.Hour, 0, 1), 0, 1, true},
		{"partial loss arrives in the end", none.WithDrop(0.99, 0), 0, 1, true},
		{"total loss at either end", none.WithDrop(1, 1), 0, 1, false},
		{"a partition lifted", isolated.WithGroups(nil), 0, 1, true},
	} {
		if got := tc.f.Reaches(tc.from, tc.to); got != tc.want {
			t.Errorf("%s: Reaches(%d, %d) = %v, want %v", tc.name, tc.from, tc.to, got, tc.want)
		}
	}
}

// The With methods return a new snapshot and leave the one they started
// from as it was: a proxy may be judging by it at that moment.
func TestWithLeavesTheSnapshotAlone(t *testing.T) {
	var none *Faults
	f := none.WithGroups([]int{0, 1}).WithDelay(time.Second, 0)
	g := f.WithGroups(nil).WithDelay(0, 0).WithDrop(1, 1).WithCut(Route{1, 0})
	if !f.Partitioned() || f.RouteDelay(0, 1) != time.Second || f.RouteDrop(0, 1) != 0 || f.HasCuts() {
		t.Errorf("the older snapshot changed: %s", f.Describe(name))
	}
	if g.Partitioned() || g.RouteDelay(0, 1) != 0 || g.RouteDrop(0, 1) != 1 || !g.IsCut(Route{1, 0}) || g.IsCut(Route{0, 1}) {
		t.Errorf("the newer snapshot is %s", g.Describe(name))
	}
	if !none.Empty() || !none.WithDelay(0, 0, 1).Empty() || f.Empty() || !f.WithGroups(nil).WithDelay(0, 0).Empty() {
		t.Error("Empty does not tell a snapshot without faults")
	}
}

// Retire wakes what waits for the next snapshot (delay lines); a snapshot
// still current does not.
func TestRetireClosesChanged(t *testing.T) {
	var none *Faults
	if none.Changed() != nil {
		t.Error("no faults: Changed should never fire")
	}
	none.Retire() // no panic
	f := none.WithDelay(time.Second, 0)
	select {
	case <-f.Changed():
		t.Fatal("Changed fired before Retire")
	default:
	}
	f.Retire()
	select {
	case <-f.Changed():
	default:
		t.Fatal("Changed did not fire on Retire")
	}
	if g := f.WithDelay(0, 0).WithDrop(0.5, 1); isClosed(g.Changed()) {
		t.Error("a snapshot made from a retired one starts retired")
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func name(i int) string { return fmt.Sprintf("node%d", i+1) }

// Describe names the sides of the partition, then cuts, latency and loss,
// each in a fixed order whatever the map order.
func TestDescribe(t *testing.T) {
	var none *Faults
	for _, tc := range []struct {
		f    *Faults
		want string
	}{
		{nil, ""},
		{none.WithGroups([]int{0, 1, 1}), "{node1} | {node2 node3}"},
		{none.WithGroups([]int{1, 0, 1}), "{node2} | {node1 node3}"},
		{none.WithCut(Route{0, 2}, Route{0, 1}, Route{2, 1}), "node1 -/-> {node2 node3}; node3 -/-> {node2}"},
		{none.WithDelay(200*time.Millisecond, 2, 0).WithDrop(0.3, 1), "delay 200ms {node1 node3}; drop 30% {node2}"},
		{none.WithGroups([]int{0, 0, 1}).WithCut(Route{0, 1}).WithDrop(1, 2).WithDrop(0.125, 0),
			"{node1 node2} | {node3}; node1 -/-> {node2}; drop 12.5% {node1}; drop 100% {node3}"},
	} {
		if got := tc.f.Describe(name); got != tc.want {
			t.Errorf("Describe = %q, want %q", got, tc.want)
		}
	}
}
