package clients

import (
	"context"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// WithCallTimeout gives every unary call on cli whose context has no
// deadline one of d, by wrapping the client's KV, Lease, Cluster,
// Maintenance, Auth and Watcher. Streams (Watch, lease KeepAlive,
// Snapshot) are left alone: they live as long as their context. A call
// the default deadline ended returns timeoutErr(ctx, method, endpoints,
// d, err): the call's own context (which the caller's package may
// recognise, as etcdtest does Ginkgo's SpecContext), the client method
// ("Get"), where the call could go (the member a Maintenance call names,
// or cli's endpoints), d, and what the client returned. A call whose own context ended returns the client's error
// unchanged. timeoutErr must not be nil.
//
// The deadline is set around the whole call, above clientv3's retry
// interceptor, because that is where it bounds the call. A gRPC unary
// interceptor added through clientv3.Config.DialOptions would run inside
// clientv3's: grpc-go puts the single WithUnaryInterceptor (clientv3's
// retry loop) first and chained interceptors after it, so the deadline
// would bound one attempt, and clientv3 retries an attempt that ended in
// DeadlineExceeded while the caller's context is still live — up to 100
// times (measured: 23 attempts in 5s with a 200ms per-attempt deadline
// against a paused member). Wrapping after clientv3 has converted the
// error (toErr) also means nothing rewrites the message.
func WithCallTimeout(cli *clientv3.Client, d time.Duration, timeoutErr TimeoutError) {
	t := &deadliner{cli: cli, d: d, timeoutErr: timeoutErr}
	cli.KV = timedKV{cli.KV, t}
	cli.Lease = timedLease{cli.Lease, t}
	cli.Cluster = timedCluster{cli.Cluster, t}
	cli.Maintenance = timedMaintenance{cli.Maintenance, t}
	cli.Auth = timedAuth{cli.Auth, t}
	cli.Watcher = timedWatcher{cli.Watcher, t}
}

// Refuse has every unary call on cli, a client WithCallTimeout wrapped,
// first ask refuse(method): a non-nil error is the call's answer, at once,
// without reaching the member. etcdtest refuses calls on a member client
// whose member it killed or stopped, which would otherwise retry
// "connection refused" until their deadline. Streams are not asked. A
// client WithCallTimeout did not wrap is left as it is.
func Refuse(cli *clientv3.Client, refuse func(method string) error) {
	if k, ok := cli.KV.(timedKV); ok {
		k.t.refuse.Store(&refuse)
	}
}

// TimeoutError makes the error of a call the default deadline ended; see
// WithCallTimeout.
type TimeoutError func(ctx context.Context, method string, endpoints []string, d time.Duration, err error) error

// deadliner gives calls without a deadline one.
type deadliner struct {
	cli        *clientv3.Client // its endpoints, for the error
	d          time.Duration
	timeoutErr TimeoutError
	refuse     atomic.Pointer[func(method string) error] // see Refuse
}

// refused returns the refusal of method, or nil to make the call.
func (t *deadliner) refused(method string) error {
	if f := t.refuse.Load(); f != nil {
		return (*f)(method)
	}
	return nil
}

// call runs f under ctx, with t's deadline when ctx has none. endpoint
// names the member a call is addressed to ("" for the client's endpoints).
func call[R any](t *deadliner, ctx context.Context, method, endpoint string, f func(context.Context) (R, error)) (R, error) {
	if err := t.refused(method); err != nil {
		var zero R
		return zero, err
	}
	if _, ok := ctx.Deadline(); ok {
		return f(ctx)
	}
	cctx, cancel := context.WithTimeout(ctx, t.d)
	defer cancel()
	r, err := f(cctx)
	return r, t.check(ctx, cctx, method, endpoint, err)
}

// check names the default deadline in err when it is what ended the call.
func (t *deadliner) check(ctx, cctx context.Context, method, endpoint string, err error) error {
	if err == nil || ctx.Err() != nil || cctx.Err() == nil {
		return err
	}
	eps := []string{endpoint}
	if endpoint == "" {
		eps = t.cli.Endpoints()
	}
	return t.timeoutErr(ctx, method, eps, t.d, err)
}
