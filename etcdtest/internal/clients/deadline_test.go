package clients

import (
	"context"
	"testing"
	"time"
)

func TestWithDefaultDeadline(t *testing.T) {
	const d = time.Minute
	tests := []struct {
		name string
		own  time.Duration // 0: no deadline
		want time.Duration // from now
	}{
		{"no deadline gets d", 0, d},
		{"a shorter deadline is kept", time.Second, time.Second},
		{"a longer deadline is kept", time.Hour, time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parent := context.Background()
			now := time.Now()
			if tc.own > 0 {
				var cancel context.CancelFunc
				parent, cancel = context.WithDeadline(parent, now.Add(tc.own))
				defer cancel()
			}
			ctx, cancel := WithDefaultDeadline(parent, d)
			at, ok := ctx.Deadline()
			if !ok || at.Before(now.Add(tc.want)) || at.After(time.Now().Add(tc.want)) {
				t.Errorf("deadline %v from now (set: %v); want %v", at.Sub(now), ok, tc.want)
			}
			cancel()
			if ctx.Err() != context.Canceled {
				t.Errorf("after cancel, ctx.Err() is %v; want context.Canceled", ctx.Err())
			}
			if parent.Err() != nil {
				t.Errorf("cancel ended the parent context too: %v", parent.Err())
			}
		})
	}
}
