package proxy

import (
	"testing"
	"time"
)

func TestALinkPassesUntilCutAndHolesWhileCut(t *testing.T) {
	p := NewLink()
	if v := p.Judge(nil, Request, 0.5); v != Pass {
		t.Errorf("a new link judges %v; want Pass", v)
	}
	if was := p.SetCut(true); was || !p.Cut() {
		t.Errorf("SetCut(true) on a new link: was %v, Cut() %v; want false, true", was, p.Cut())
	}
	for _, dir := range []Direction{Request, Response} {
		if v := p.Judge(nil, dir, 0.99); v != Hole {
			t.Errorf("a cut link judges %v going %v; want Hole", v, dir)
		}
	}
	if !p.Keep(nil) {
		t.Error("a cut link closes connections itself; the caller drops them when the cut ends")
	}
	if was := p.SetCut(false); !was || p.Cut() || p.Judge(nil, Request, 0) != Pass {
		t.Errorf("SetCut(false): was %v, Cut() %v; want true, false, and Pass again", was, p.Cut())
	}
}

func TestALinksLatencyChangeWakesWaitingChunks(t *testing.T) {
	p := NewLink()
	d, changed := p.Delay(nil, Request)
	if d != 0 {
		t.Errorf("a new link delays %v; want 0", d)
	}
	p.SetLatency(200 * time.Millisecond)
	select {
	case <-changed:
	default:
		t.Fatal("SetLatency did not close the channel chunks wait on")
	}
	d, next := p.Delay(nil, Response)
	if d != 200*time.Millisecond || p.Latency() != d {
		t.Errorf("Delay = %v, Latency() = %v; want 200ms", d, p.Latency())
	}
	select {
	case <-next:
		t.Error("the channel after a change is closed already")
	default:
	}
}
