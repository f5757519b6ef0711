package netfault

import (
	"testing"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proxy"
)

// A client link's policy: a cut holes every chunk until Heal, which says
// whether there was a cut to lift; a latency change wakes the chunks that
// wait out the old one.
func TestLinkPolicy(t *testing.T) {
	var p LinkPolicy
	if p.Judge(nil, proxy.Request, 0) != proxy.Pass || p.IsCut() || p.Heal() {
		t.Fatal("a new link must pass everything and have no cut to heal")
	}
	p.Cut()
	if p.Judge(nil, proxy.Response, 0.99) != proxy.Hole || !p.IsCut() {
		t.Fatal("a cut link must hole every chunk")
	}
	if !p.Heal() || p.Judge(nil, proxy.Request, 0) != proxy.Pass || p.Heal() {
		t.Fatal("Heal must lift the cut once and report it")
	}
	d, changed := p.Delay(nil, proxy.Request)
	if d != 0 {
		t.Fatalf("delay %v on a new link", d)
	}
	p.SetLatency(200 * time.Millisecond)
	select {
	case <-changed:
	default:
		t.Fatal("SetLatency did not wake a chunk waiting on the old latency")
	}
	if d, _ := p.Delay(nil, proxy.Response); d != 200*time.Millisecond || p.Latency() != d {
		t.Fatalf("delay %v after SetLatency(200ms)", d)
	}
}
