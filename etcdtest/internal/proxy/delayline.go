package proxy

import (
	"io"
	"sync/atomic"
	"time"
)

// delayLine delivers one direction's chunks at their time plus the
// policy's current latency, in order, without holding up the reading of the
// next. A change of latency applies to chunks still waiting.
type delayLine struct {
	p       *Proxy
	pc      *Conn
	dir     Direction
	dst     io.Writer
	in      chan delayed
	pending atomic.Int64 // pushed and not yet written
	exited  chan struct{}
}

type delayed struct {
	data []byte
	at   time.Time // when the proxy read it
}

func (p *Proxy) newDelayLine(pc *Conn, dir Direction, dst io.Writer) *delayLine {
	d := &delayLine{p: p, pc: pc, dir: dir, dst: dst, in: make(chan delayed, 1024), exited: make(chan struct{})}
	go d.run()
	return d
}

// busy reports whether chunks wait: the next one must queue behind them.
func (d *delayLine) busy() bool { return d.pending.Load() > 0 }

// push queues a chunk; false when the connection is closed.
func (d *delayLine) push(data []byte, at time.Time) bool {
	d.pending.Add(1)
	select {
	case d.in <- delayed{data, at}:
		return true
	case <-d.pc.done:
		return false
	}
}

// finish delivers what is queued, unless the connection closes first.
func (d *delayLine) finish() {
	close(d.in)
	select {
	case <-d.exited:
	case <-d.pc.done:
	}
}

func (d *delayLine) run() {
	defer close(d.exited)
	for c := range d.in {
		if !d.wait(c.at) {
			return
		}
		if _, err := d.dst.Write(c.data); err != nil {
			d.p.closeConn(d.pc)
			return
		}
		d.pending.Add(-1)
	}
}

// wait waits until a chunk read at at is due; false if the connection closed.
func (d *delayLine) wait(at time.Time) bool {
	for {
		delay, changed := d.p.pol.Delay(d.pc, d.dir)
		wait := time.Until(at.Add(delay))
		if wait <= 0 {
			return true
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-changed: // nil: nothing to wait for but the timer
		case <-d.pc.done:
			t.Stop()
			return false
		}
		t.Stop()
	}
}
