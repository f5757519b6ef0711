package clients

import (
	"context"
	"sync"
	"time"
)

// WithDefaultDeadline returns ctx bounded by d when it has no deadline,
// and ctx with its own deadline otherwise. Either way the caller calls
// cancel when done, as with context.WithTimeout.
func WithDefaultDeadline(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// EachAtOnce calls f for every item of group concurrently, each with ctx
// bounded by d, and returns once all have returned: one slow or frozen
// member costs the caller d, not d per member.
func EachAtOnce[T any](ctx context.Context, group []T, d time.Duration, f func(ctx context.Context, i int, item T)) {
	var wg sync.WaitGroup
	for i, it := range group {
		wg.Add(1)
		go func() {
			defer wg.Done()
			qctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			f(qctx, i, it)
		}()
	}
	wg.Wait()
}
