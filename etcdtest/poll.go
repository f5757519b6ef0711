package etcdtest

import (
	"context"
	"time"
)

// poll is the one wait-for-state loop of this package: it calls try, then
// again every interval, until try reports done, or returns an error that
// ends the wait at once (a member exited, etcd refused for good), or ctx
// ends — then it returns expired(), the caller's own account of what it
// waited for and what it saw last.
func poll(ctx context.Context, every time.Duration, try func() (done bool, err error), expired func() error) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		done, err := try()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return expired()
		case <-tick.C:
		}
	}
}
