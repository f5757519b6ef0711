package locker

import (
	"context"
	"sync"
)

// Callbacks run on one goroutine per node, in the order their events
// happened, never concurrently. The queue is unbounded so that recording an
// event never waits for a slow callback. Each registered function is queued
// on its own, so that the loop, which looks for Close before starting each
// one, starts none after Close.
//
// The deliverer knows whether a callback is running. Close reads that
// instead of asking which goroutine it runs on: it waits for the loop to end
// only when no callback runs (a running one may be the caller, and the loop
// starts no other once the node is closed).
type deliverer struct {
	ctx  context.Context // the node's: ends at Close
	kick chan struct{}
	done chan struct{}

	mu        sync.Mutex
	queue     []func()
	running   bool
	onChanges []func(value, leaderID string)
	onSelects []func(ctx context.Context, value string)
	selCancel context.CancelFunc // ends the current election's OnSelect context
}

func newDeliverer(ctx context.Context) *deliverer {
	return &deliverer{ctx: ctx, kick: make(chan struct{}, 1), done: make(chan struct{})}
}

func (d *deliverer) enqueueLocked(fn func()) {
	d.queue = append(d.queue, fn)
	kick(d.kick)
}

// changed queues OnChange calls for a new leader ("" for none).
func (d *deliverer) changed(value, leaderID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, fn := range d.onChanges {
		d.enqueueLocked(func() { fn(value, leaderID) })
	}
}

// selected queues OnSelect calls for an election this node won, with a
// context that deselected ends.
func (d *deliverer) selected(value string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	d.selCancel = cancel
	for _, fn := range d.onSelects {
		d.enqueueLocked(func() {
			if ctx.Err() == nil {
				fn(ctx, value)
			}
		})
	}
}

func (d *deliverer) deselected() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.selCancel != nil {
		d.selCancel()
		d.selCancel = nil
	}
}

// onChange registers fn and, when there is a leader, replays it to fn.
func (d *deliverer) onChange(fn func(value, leaderID string), cur Leader) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.onChanges = append(d.onChanges, fn)
	if cur.ID != "" {
		d.enqueueLocked(func() { fn(cur.Value, cur.ID) })
	}
}

// onSelect registers fn and, when this node is elected, calls it with a
// context that ends with the current election.
func (d *deliverer) onSelect(fn func(ctx context.Context, value string), elected bool, value string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.onSelects = append(d.onSelects, fn)
	if !elected || d.selCancel == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	prev := d.selCancel
	d.selCancel = func() { prev(); cancel() }
	d.enqueueLocked(func() {
		if ctx.Err() == nil {
			fn(ctx, value)
		}
	})
}

func (d *deliverer) run() {
	defer close(d.done)
	for {
		d.mu.Lock()
		d.running = false
		if d.ctx.Err() != nil {
			d.queue = nil
			d.mu.Unlock()
			return
		}
		if len(d.queue) == 0 {
			d.mu.Unlock()
			select {
			case <-d.kick:
			case <-d.ctx.Done():
			}
			continue
		}
		fn := d.queue[0]
		d.queue[0] = nil
		d.queue = d.queue[1:]
		d.running = true
		d.mu.Unlock()
		fn()
	}
}

// wait returns once the loop has ended, or at once while a callback runs.
func (d *deliverer) wait() {
	d.mu.Lock()
	running := d.running
	d.mu.Unlock()
	if !running {
		<-d.done
	}
}
