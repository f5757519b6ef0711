// Package clients is how etcdtest's clients never hang a spec on a call:
// every unary call whose context has no deadline gets a default one
// (WithCallTimeout), and the error of a call that deadline ended is the
// one the caller's package makes, so it can name its own setting
// (etcdtest's CallTimeoutError names Config.CallTimeout). Streams (Watch,
// lease KeepAlive, Snapshot) are left alone: they live as long as their
// context. WithDefaultDeadline is the same rule for one call of the
// toolkit's own.
//
//	cli, err := clientv3.New(cfg)
//	if err != nil {
//		return err
//	}
//	clients.WithCallTimeout(cli, 5*time.Second, func(ctx context.Context, method string, endpoints []string, d time.Duration, err error) error {
//		return fmt.Errorf("%s: no answer from %v within %v: %w", method, endpoints, d, err)
//	})
//	_, err = cli.Get(context.Background(), "k") // ends within 5s
//
//	ctx, cancel := clients.WithDefaultDeadline(ctx, cfg.CallTimeout)
//	defer cancel()
package clients
