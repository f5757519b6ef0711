// Package warm keeps things that take a while to make — etcdtest's warm
// spare clusters — made ahead of the next request for one: a Pool holds at
// most one per key, booting or ready, hands it over only once it passes the
// caller's check, and makes the next one in the background.
//
// It knows nothing of clusters: what is made, how it is checked at
// hand-over and how it is thrown away are the caller's functions. Bounds:
// one item per key, items for at most MaxKeys keys (the least recently
// asked-for goes first), and an item nobody took for Idle is discarded.
package warm

import (
	"context"
	"sync"
	"time"
)

// Pool holds warm items of type T, by key. Set the fields before first use.
type Pool[T any] struct {
	MaxKeys int           // keys with an item at once; the least recently asked-for is evicted
	Idle    time.Duration // an item nobody took for this long is discarded
	// Check is the hand-over: an item made for stamp must still be good
	// (stamp names the files it was made from; a different one fails).
	Check func(ctx context.Context, item T) error
	// Discard throws an item away (stops a cluster).
	Discard func(item T)

	mu     sync.Mutex
	slots  map[string]*slot[T]
	closed bool // no new items
}

// slot is one item booting or ready for a key.
type slot[T any] struct {
	ready  chan struct{} // closed when the build has ended
	item   T             // valid after ready when err is nil
	err    error         // valid after ready
	stamp  string
	cancel context.CancelFunc
	since  time.Time // when it was asked for: for least-recently-used eviction
	idle   *time.Timer
}

// Get returns an item of key: the warm one if it is good (waiting for one
// still being made, which is ahead of a fresh make) and was made for stamp,
// else a fresh one from build. Either way the next item of key starts being
// built afterwards, with build and a context of its own.
func (p *Pool[T]) Get(ctx context.Context, key, stamp string, build func(context.Context) (T, error)) (T, error) {
	p.mu.Lock()
	s := p.slots[key]
	delete(p.slots, key)
	p.mu.Unlock()
	if s != nil {
		if item, ok := p.take(ctx, s, stamp); ok {
			p.refill(key, stamp, build)
			return item, nil
		}
	}
	item, err := build(ctx)
	if err != nil {
		return item, err
	}
	p.refill(key, stamp, build)
	return item, nil
}

// take waits for the slot's build (bounded by ctx), checks the item and
// returns it, or discards it.
func (p *Pool[T]) take(ctx context.Context, s *slot[T], stamp string) (T, bool) {
	var none T
	s.idle.Stop()
	select {
	case <-s.ready:
	case <-ctx.Done():
		go p.discard(s)
		return none, false
	}
	if s.err != nil {
		return none, false // the build cleaned up after itself
	}
	if s.stamp != stamp || p.Check(ctx, s.item) != nil {
		go p.discard(s)
		return none, false
	}
	return s.item, true
}

// discard stops the slot's build, or throws its item away.
func (p *Pool[T]) discard(s *slot[T]) {
	s.idle.Stop()
	s.cancel()
	<-s.ready
	if s.err == nil {
		p.Discard(s.item)
	}
}

// refill starts building an item of key unless there is one, evicting the
// least recently asked-for item of another key if that makes too many.
func (p *Pool[T]) refill(key, stamp string, build func(context.Context) (T, error)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.slots[key] != nil {
		return
	}
	if p.slots == nil {
		p.slots = map[string]*slot[T]{}
	}
	for len(p.slots) >= max(p.MaxKeys, 1) {
		oldest := ""
		for k, s := range p.slots {
			if oldest == "" || s.since.Before(p.slots[oldest].since) {
				oldest = k
			}
		}
		go p.discard(p.slots[oldest])
		delete(p.slots, oldest)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &slot[T]{ready: make(chan struct{}), stamp: stamp, cancel: cancel, since: time.Now()}
	s.idle = time.AfterFunc(p.Idle, func() { p.expire(key, s) })
	p.slots[key] = s
	go func() {
		defer close(s.ready)
		s.item, s.err = build(ctx)
	}()
}

// expire discards an item nobody took for Idle.
func (p *Pool[T]) expire(key string, s *slot[T]) {
	p.mu.Lock()
	mine := p.slots[key] == s
	if mine {
		delete(p.slots, key)
	}
	p.mu.Unlock()
	if mine {
		p.discard(s)
	}
}

// Drain discards every item and returns once they are gone; with closing,
// the pool makes no new ones after.
func (p *Pool[T]) Drain(closing bool) {
	p.mu.Lock()
	p.closed = p.closed || closing
	slots := p.slots
	p.slots = nil
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range slots {
		wg.Add(1)
		go func() { defer wg.Done(); p.discard(s) }()
	}
	wg.Wait()
}

// Count returns how many items there are, being made or ready.
func (p *Pool[T]) Count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.slots)
}
