package concurrency_test

import (
	"context"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// campaigner puts etcd's concurrency.Election behind chaos.Elector (and
// chaos.Fenced): this adapter is all a recording needs from your elector.
type campaigner struct {
	id      string
	elected atomic.Bool
	token   atomic.Int64 // the leader key's create revision: its fencing token
}

func (c *campaigner) ID() string    { return c.id }
func (c *campaigner) Elected() bool { return c.elected.Load() }
func (c *campaigner) FencingToken() (int64, bool) {
	return c.token.Load(), c.elected.Load()
}

// run campaigns on path until ctx ends, the way concurrency's docs show:
// elected from Campaign's return until the session is lost, then again with
// a new session.
func (c *campaigner) run(ctx context.Context, cli *clientv3.Client, path string) {
	for ctx.Err() == nil {
		s, err := concurrency.NewSession(cli, concurrency.WithTTL(1), concurrency.WithContext(ctx))
		if err != nil {
			select { // the session could not be created (member cut off): try again shortly
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		e := concurrency.NewElection(s, path)
		if e.Campaign(ctx, c.id) == nil {
			c.token.Store(e.Rev())
			c.elected.Store(true)
			select {
			case <-s.Done(): // what a concurrency user has: Done closes when keep-alives stop
			case <-ctx.Done():
			}
			c.elected.Store(false)
		}
		s.Close()
	}
}
