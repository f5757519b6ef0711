package warm

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// item is what the pool holds in these tests: a numbered thing whose
// discards are counted.
type item struct{ n int }

type rig struct {
	mu        sync.Mutex
	built     int
	discarded []int
	bad       map[int]bool // items Check refuses
	pool      *Pool[*item]
}

func newRig(maxKeys int, idle time.Duration) *rig {
	r := &rig{bad: map[int]bool{}}
	r.pool = &Pool[*item]{
		MaxKeys: maxKeys,
		Idle:    idle,
		Check: func(_ context.Context, it *item) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.bad[it.n] {
				return errors.New("bad")
			}
			return nil
		},
		Discard: func(it *item) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.discarded = append(r.discarded, it.n)
		},
	}
	return r
}

func (r *rig) build(context.Context) (*item, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.built++
	return &item{n: r.built}, nil
}

// eventually polls cond for up to 5 s: the pool builds and discards in the
// background.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("not within 5s: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (r *rig) discards() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.discarded...)
}

// The first Get builds in the foreground and one more in the background;
// the second takes that one, ready, and a third is built behind it.
func TestGetTakesTheWarmItemAndRefills(t *testing.T) {
	r := newRig(2, time.Minute)
	ctx := context.Background()
	first, _ := r.pool.Get(ctx, "k", "s", r.build)
	if first.n != 1 || r.pool.Count() != 1 {
		t.Fatalf("first Get: item %d, %d warm; want item 1 and one warm", first.n, r.pool.Count())
	}
	second, _ := r.pool.Get(ctx, "k", "s", r.build)
	if second.n != 2 {
		t.Fatalf("second Get: item %d, want the warm item 2", second.n)
	}
	eventually(t, "a third item built behind the second", func() bool { return r.pool.Count() == 1 })
	r.pool.Drain(true)
	if d := r.discards(); len(d) != 1 || d[0] != 3 {
		t.Errorf("Drain discarded %v, want [3]", d)
	}
}

// A warm item made from other files (stamp), or that fails the check, is
// discarded and a fresh one built: none is handed over stale.
func TestAStaleOrFailingItemIsNeverHandedOver(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stamp string
		bad   bool
	}{
		{"the files changed", "s2", false},
		{"the check fails", "s", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(2, time.Minute)
			ctx := context.Background()
			r.pool.Get(ctx, "k", "s", r.build)
			eventually(t, "the warm item built", func() bool { r.mu.Lock(); defer r.mu.Unlock(); return r.built == 2 })
			r.mu.Lock()
			r.bad[2] = tc.bad
			r.mu.Unlock()
			got, _ := r.pool.Get(ctx, "k", tc.stamp, r.build)
			if got.n != 3 {
				t.Errorf("got item %d, want a fresh item 3", got.n)
			}
			eventually(t, "the stale item discarded", func() bool { d := r.discards(); return len(d) == 1 && d[0] == 2 })
			r.pool.Drain(true)
		})
	}
}

// At most MaxKeys keys keep an item: the least recently asked-for goes.
func TestTheLeastRecentlyAskedForKeyIsEvicted(t *testing.T) {
	r := newRig(1, time.Minute)
	ctx := context.Background()
	r.pool.Get(ctx, "a", "s", r.build) // builds 1, warms 2 for a
	eventually(t, "a's warm item", func() bool { r.mu.Lock(); defer r.mu.Unlock(); return r.built == 2 })
	r.pool.Get(ctx, "b", "s", r.build) // builds 3, evicts a's 2, warms 4 for b
	eventually(t, "a's item evicted", func() bool { d := r.discards(); return len(d) == 1 && d[0] == 2 })
	if r.pool.Count() != 1 {
		t.Errorf("%d warm items with MaxKeys 1", r.pool.Count())
	}
	r.pool.Drain(true)
}

// An item nobody took for Idle is discarded; after Drain(true) nothing new
// is built, while Get still serves fresh items.
func TestIdleItemsExpireAndAClosedPoolBuildsNothingAhead(t *testing.T) {
	r := newRig(2, 20*time.Millisecond)
	ctx := context.Background()
	r.pool.Get(ctx, "k", "s", r.build)
	eventually(t, "the idle item discarded", func() bool { return len(r.discards()) == 1 && r.pool.Count() == 0 })
	r.pool.Drain(true)
	if got, _ := r.pool.Get(ctx, "k", "s", r.build); got == nil || r.pool.Count() != 0 {
		t.Errorf("a closed pool: item %v, %d warm; want a fresh item and none warm", got, r.pool.Count())
	}
}

// A Get whose context ends while the warm item is still being built does
// not wait for it: it cancels that build and tries its own, which fails
// with the same ended context; nothing is left behind.
func TestAGetThatCannotWaitAbandonsTheBuild(t *testing.T) {
	r := newRig(2, time.Minute)
	var calls atomic.Int32
	started, ended := make(chan struct{}), make(chan struct{})
	build := func(ctx context.Context) (*item, error) {
		if calls.Add(1) == 2 { // the refill's: it never ends by itself
			close(started)
			defer close(ended)
			<-ctx.Done()
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return r.build(ctx)
	}
	r.pool.Get(context.Background(), "k", "s", build)
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.pool.Get(ctx, "k", "s", build); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with an ended context: %v, want context.Canceled", err)
	}
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the abandoned warm build was not cancelled")
	}
	if r.pool.Count() != 0 || len(r.discards()) != 0 {
		t.Errorf("%d warm, %v discarded; want nothing left and nothing to discard", r.pool.Count(), r.discards())
	}
}
