package clients

import (
	"context"
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
