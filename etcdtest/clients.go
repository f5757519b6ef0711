package etcdtest

// The toolkit's clients (Client, Member.Client, ClientLink.Client) and the
// configuration it hands out (ClientConfig) are made here, alike. They
// never hang a spec: keep-alives notice a frozen member under a call or
// stream, and a call whose context has no deadline gets Config.CallTimeout.

import (
	"context"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// login says whether a client logs in with the cluster's credentials.
// Only a booting cluster's first clients do not: they check readiness
// before auth is turned on (security.go, enableAuth).
type login bool

const (
	anonymous   login = false
	credentials login = true
)

// newClient returns a client of the given endpoints configured by
// clientConfig, whose calls without a deadline get Config.CallTimeout
// (withCallTimeout).
func (c *common) newClient(endpoints []string) (*clientv3.Client, error) {
	return c.newClientAs(endpoints, credentials)
}

func (c *common) newClientAs(endpoints []string, who login) (*clientv3.Client, error) {
	cli, err := clientv3.New(c.clientConfig(endpoints, who))
	if err != nil {
		return nil, fmt.Errorf("etcdtest: create a client for %v: %w", endpoints, err)
	}
	withCallTimeout(cli, c.cfg.CallTimeout)
	return cli, nil
}

// clientConfig configures a client of the given endpoints of this
// cluster: its TLS and, unless anonymous, its credentials; no logging into
// the test process's output, keep-alives that notice a frozen member under
// a call or stream (keepAliveTime, keepAliveTimeout), and reconnection
// within milliseconds after a member comes back.
func (c *common) clientConfig(endpoints []string, who login) clientv3.Config {
	cfg := clientv3.Config{
		Endpoints:            endpoints,
		DialTimeout:          2 * time.Second,
		DialKeepAliveTime:    keepAliveTime,
		DialKeepAliveTimeout: keepAliveTimeout,
		Logger:               zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 5 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 250 * time.Millisecond},
			MinConnectTimeout: time.Second,
		})},
	}
	if s := c.sec; s != nil {
		if s.client != nil {
			cfg.TLS = s.client.Clone()
		}
		if who == credentials {
			cfg.Username, cfg.Password = s.user, s.password
		}
	}
	return cfg
}

// ClientConfig returns a configuration for a client of all members, with
// the cluster's TLS and credentials, for tests that need their own client
// (one per simulated process, say). The caller closes the client it makes.
// Against an external cluster, keys must stay under Prefix(): wrap the
// client with go.etcd.io/etcd/client/v3/namespace.
//
// Like the toolkit's own clients, such a client is quiet (Logger is
// zap.NewNop(): no JSON warnings in the spec's output during faults),
// reconnects within milliseconds after a member comes back, and sends
// gRPC keep-alives, so a stream (a Watch, a lease KeepAlive) that is
// stuck on a frozen member is closed and retried elsewhere within about
// 12s. Set Logger to see its logs.
//
// Unlike the toolkit's clients, its calls get no default deadline
// (Config.CallTimeout): that deadline is set on the client clientv3.New
// returns, which a Config cannot carry, and a gRPC interceptor in
// DialOptions would only bound each of clientv3's up to 100 retries of a
// call, not the call. Give its calls a context with a deadline.
func (c *Cluster) ClientConfig() clientv3.Config {
	cc := c.core()
	return cc.clientConfig(cc.endpoints(), credentials)
}

// Keep-alive of every client the toolkit makes or configures. A frozen
// member (SIGSTOP, a cut ClientLink) keeps its TCP connections open and
// its kernel acknowledges every byte, so only an HTTP/2 ping the member's
// gRPC server must answer tells that it is gone.
//
//   - keepAliveTime is 10s because grpc-go raises any shorter client ping
//     interval to 10s (internal.KeepaliveMinPingTime, not settable): a
//     connection with a call or stream in flight and nothing read for 10s
//     is pinged. It is above etcd's enforcement policy
//     (--grpc-keepalive-min-time, 5s by default in 3.4 to 3.7), so members
//     never answer with GOAWAY "too_many_pings" and need no extra flag.
//   - keepAliveTimeout is how long the ping's answer may take before the
//     connection is closed and its calls and streams retried on another
//     endpoint: 2s, far above a live member's answer (microseconds; a
//     loaded 2-core machine running several clusters stays well under a
//     second), so a busy member is not taken for a frozen one. Measured:
//     a stream on a paused member is noticed 12.0s after the pause.
//   - PermitWithoutStream stays false: etcd's policy does not permit pings
//     on a connection without calls, and answers a third one with GOAWAY
//     "too_many_pings", which grpc-go logs as an error on stderr. An idle
//     connection needs no ping: the next call on it starts them.
const (
	keepAliveTime    = 10 * time.Second
	keepAliveTimeout = 2 * time.Second
)

// withCallTimeout gives every unary call on cli whose context has no
// deadline one of d, by wrapping the client's KV, Lease, Cluster,
// Maintenance, Auth and Watcher. Streams (Watch, lease KeepAlive,
// Snapshot) are left alone: they live as long as their context.
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
func withCallTimeout(cli *clientv3.Client, d time.Duration) {
	t := &deadliner{cli: cli, d: d}
	cli.KV = timedKV{cli.KV, t}
	cli.Lease = timedLease{cli.Lease, t}
	cli.Cluster = timedCluster{cli.Cluster, t}
	cli.Maintenance = timedMaintenance{cli.Maintenance, t}
	cli.Auth = timedAuth{cli.Auth, t}
	cli.Watcher = timedWatcher{cli.Watcher, t}
}

// deadliner gives calls without a deadline one.
type deadliner struct {
	cli *clientv3.Client // its endpoints, for the error
	d   time.Duration
}

// call runs f under ctx, with t's deadline when ctx has none. endpoint
// names the member a call is addressed to ("" for the client's endpoints).
func call[R any](t *deadliner, ctx context.Context, method, endpoint string, f func(context.Context) (R, error)) (R, error) {
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
	return &CallTimeoutError{Method: method, Endpoints: eps, Timeout: t.d, Err: err}
}

// CallTimeoutError is the error of a call on a toolkit client that got no
// answer within Config.CallTimeout, the deadline the client gave it because
// its context had none. It is a timeout like any other to callers that
// check: errors.Is(err, context.DeadlineExceeded) holds and its gRPC
// status code (status.Code) is codes.DeadlineExceeded.
type CallTimeoutError struct {
	Method    string        // the client method, such as "Get"
	Endpoints []string      // where the call could go
	Timeout   time.Duration // Config.CallTimeout
	Err       error         // what the client returned, context.DeadlineExceeded as a rule
}

func (e *CallTimeoutError) Error() string {
	where := "member " + strings.Join(e.Endpoints, ", ")
	if len(e.Endpoints) > 1 {
		where = "any of the members " + strings.Join(e.Endpoints, ", ")
	}
	return fmt.Sprintf("etcdtest: %s: no answer from %s within Config.CallTimeout (%v); the call's context had no deadline, so the toolkit's client gave it this one (a paused or isolated member never answers; pass a context with a deadline to wait longer): %v",
		e.Method, where, e.Timeout, e.Err)
}

// Unwrap returns the client's own error.
func (e *CallTimeoutError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, context.DeadlineExceeded) hold whatever the
// client's own error was.
func (e *CallTimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// GRPCStatus makes status.Code(err) codes.DeadlineExceeded.
func (e *CallTimeoutError) GRPCStatus() *status.Status {
	return status.New(codes.DeadlineExceeded, e.Error())
}

type timedKV struct {
	clientv3.KV
	t *deadliner
}

func (k timedKV) Put(ctx context.Context, key, val string, opts ...clientv3.OpOption) (*clientv3.PutResponse, error) {
	return call(k.t, ctx, "Put", "", func(ctx context.Context) (*clientv3.PutResponse, error) { return k.KV.Put(ctx, key, val, opts...) })
}

func (k timedKV) Get(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	return call(k.t, ctx, "Get", "", func(ctx context.Context) (*clientv3.GetResponse, error) { return k.KV.Get(ctx, key, opts...) })
}

func (k timedKV) Delete(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.DeleteResponse, error) {
	return call(k.t, ctx, "Delete", "", func(ctx context.Context) (*clientv3.DeleteResponse, error) { return k.KV.Delete(ctx, key, opts...) })
}

func (k timedKV) Compact(ctx context.Context, rev int64, opts ...clientv3.CompactOption) (*clientv3.CompactResponse, error) {
	return call(k.t, ctx, "Compact", "", func(ctx context.Context) (*clientv3.CompactResponse, error) { return k.KV.Compact(ctx, rev, opts...) })
}

func (k timedKV) Do(ctx context.Context, op clientv3.Op) (clientv3.OpResponse, error) {
	return call(k.t, ctx, "Do", "", func(ctx context.Context) (clientv3.OpResponse, error) { return k.KV.Do(ctx, op) })
}

// Txn counts the default deadline from Txn, not Commit: a transaction is
// built and committed in one expression.
func (k timedKV) Txn(ctx context.Context) clientv3.Txn {
	if _, ok := ctx.Deadline(); ok {
		return k.KV.Txn(ctx)
	}
	cctx, cancel := context.WithTimeout(ctx, k.t.d)
	return &timedTxn{Txn: k.KV.Txn(cctx), t: k.t, ctx: ctx, cctx: cctx, cancel: cancel}
}

type timedTxn struct {
	clientv3.Txn
	t         *deadliner
	ctx, cctx context.Context
	cancel    context.CancelFunc
}

func (x *timedTxn) If(cs ...clientv3.Cmp) clientv3.Txn { x.Txn = x.Txn.If(cs...); return x }
func (x *timedTxn) Then(ops ...clientv3.Op) clientv3.Txn {
	x.Txn = x.Txn.Then(ops...)
	return x
}
func (x *timedTxn) Else(ops ...clientv3.Op) clientv3.Txn {
	x.Txn = x.Txn.Else(ops...)
	return x
}

func (x *timedTxn) Commit() (*clientv3.TxnResponse, error) {
	defer x.cancel()
	r, err := x.Txn.Commit()
	return r, x.t.check(x.ctx, x.cctx, "Txn", "", err)
}

type timedLease struct {
	clientv3.Lease
	t *deadliner
}

func (l timedLease) Grant(ctx context.Context, ttl int64) (*clientv3.LeaseGrantResponse, error) {
	return call(l.t, ctx, "Grant", "", func(ctx context.Context) (*clientv3.LeaseGrantResponse, error) { return l.Lease.Grant(ctx, ttl) })
}

func (l timedLease) Revoke(ctx context.Context, id clientv3.LeaseID) (*clientv3.LeaseRevokeResponse, error) {
	return call(l.t, ctx, "Revoke", "", func(ctx context.Context) (*clientv3.LeaseRevokeResponse, error) { return l.Lease.Revoke(ctx, id) })
}

func (l timedLease) TimeToLive(ctx context.Context, id clientv3.LeaseID, opts ...clientv3.LeaseOption) (*clientv3.LeaseTimeToLiveResponse, error) {
	return call(l.t, ctx, "TimeToLive", "", func(ctx context.Context) (*clientv3.LeaseTimeToLiveResponse, error) {
		return l.Lease.TimeToLive(ctx, id, opts...)
	})
}

func (l timedLease) Leases(ctx context.Context) (*clientv3.LeaseLeasesResponse, error) {
	return call(l.t, ctx, "Leases", "", l.Lease.Leases)
}

func (l timedLease) KeepAliveOnce(ctx context.Context, id clientv3.LeaseID) (*clientv3.LeaseKeepAliveResponse, error) {
	return call(l.t, ctx, "KeepAliveOnce", "", func(ctx context.Context) (*clientv3.LeaseKeepAliveResponse, error) {
		return l.Lease.KeepAliveOnce(ctx, id)
	})
}

type timedWatcher struct {
	clientv3.Watcher
	t *deadliner
}

func (w timedWatcher) RequestProgress(ctx context.Context) error {
	_, err := call(w.t, ctx, "RequestProgress", "", func(ctx context.Context) (struct{}, error) { return struct{}{}, w.Watcher.RequestProgress(ctx) })
	return err
}

type timedCluster struct {
	clientv3.Cluster
	t *deadliner
}

func (c timedCluster) MemberList(ctx context.Context, opts ...clientv3.OpOption) (*clientv3.MemberListResponse, error) {
	return call(c.t, ctx, "MemberList", "", func(ctx context.Context) (*clientv3.MemberListResponse, error) {
		return c.Cluster.MemberList(ctx, opts...)
	})
}

func (c timedCluster) MemberAdd(ctx context.Context, peerAddrs []string) (*clientv3.MemberAddResponse, error) {
	return call(c.t, ctx, "MemberAdd", "", func(ctx context.Context) (*clientv3.MemberAddResponse, error) {
		return c.Cluster.MemberAdd(ctx, peerAddrs)
	})
}

func (c timedCluster) MemberAddAsLearner(ctx context.Context, peerAddrs []string) (*clientv3.MemberAddResponse, error) {
	return call(c.t, ctx, "MemberAddAsLearner", "", func(ctx context.Context) (*clientv3.MemberAddResponse, error) {
		return c.Cluster.MemberAddAsLearner(ctx, peerAddrs)
	})
}

func (c timedCluster) MemberRemove(ctx context.Context, id uint64) (*clientv3.MemberRemoveResponse, error) {
	return call(c.t, ctx, "MemberRemove", "", func(ctx context.Context) (*clientv3.MemberRemoveResponse, error) {
		return c.Cluster.MemberRemove(ctx, id)
	})
}

func (c timedCluster) MemberUpdate(ctx context.Context, id uint64, peerAddrs []string) (*clientv3.MemberUpdateResponse, error) {
	return call(c.t, ctx, "MemberUpdate", "", func(ctx context.Context) (*clientv3.MemberUpdateResponse, error) {
		return c.Cluster.MemberUpdate(ctx, id, peerAddrs)
	})
}

func (c timedCluster) MemberPromote(ctx context.Context, id uint64) (*clientv3.MemberPromoteResponse, error) {
	return call(c.t, ctx, "MemberPromote", "", func(ctx context.Context) (*clientv3.MemberPromoteResponse, error) {
		return c.Cluster.MemberPromote(ctx, id)
	})
}

// timedMaintenance leaves Snapshot and SnapshotWithVersion alone: they
// stream the snapshot.
type timedMaintenance struct {
	clientv3.Maintenance
	t *deadliner
}

func (m timedMaintenance) AlarmList(ctx context.Context) (*clientv3.AlarmResponse, error) {
	return call(m.t, ctx, "AlarmList", "", m.Maintenance.AlarmList)
}

func (m timedMaintenance) AlarmDisarm(ctx context.Context, am *clientv3.AlarmMember) (*clientv3.AlarmResponse, error) {
	return call(m.t, ctx, "AlarmDisarm", "", func(ctx context.Context) (*clientv3.AlarmResponse, error) { return m.Maintenance.AlarmDisarm(ctx, am) })
}

func (m timedMaintenance) Defragment(ctx context.Context, endpoint string) (*clientv3.DefragmentResponse, error) {
	return call(m.t, ctx, "Defragment", endpoint, func(ctx context.Context) (*clientv3.DefragmentResponse, error) {
		return m.Maintenance.Defragment(ctx, endpoint)
	})
}

func (m timedMaintenance) Status(ctx context.Context, endpoint string) (*clientv3.StatusResponse, error) {
	return call(m.t, ctx, "Status", endpoint, func(ctx context.Context) (*clientv3.StatusResponse, error) {
		return m.Maintenance.Status(ctx, endpoint)
	})
}

func (m timedMaintenance) HashKV(ctx context.Context, endpoint string, rev int64) (*clientv3.HashKVResponse, error) {
	return call(m.t, ctx, "HashKV", endpoint, func(ctx context.Context) (*clientv3.HashKVResponse, error) {
		return m.Maintenance.HashKV(ctx, endpoint, rev)
	})
}

func (m timedMaintenance) MoveLeader(ctx context.Context, transfereeID uint64) (*clientv3.MoveLeaderResponse, error) {
	return call(m.t, ctx, "MoveLeader", "", func(ctx context.Context) (*clientv3.MoveLeaderResponse, error) {
		return m.Maintenance.MoveLeader(ctx, transfereeID)
	})
}

func (m timedMaintenance) Downgrade(ctx context.Context, action clientv3.DowngradeAction, version string) (*clientv3.DowngradeResponse, error) {
	return call(m.t, ctx, "Downgrade", "", func(ctx context.Context) (*clientv3.DowngradeResponse, error) {
		return m.Maintenance.Downgrade(ctx, action, version)
	})
}

type timedAuth struct {
	clientv3.Auth
	t *deadliner
}

func (a timedAuth) Authenticate(ctx context.Context, name, password string) (*clientv3.AuthenticateResponse, error) {
	return call(a.t, ctx, "Authenticate", "", func(ctx context.Context) (*clientv3.AuthenticateResponse, error) {
		return a.Auth.Authenticate(ctx, name, password)
	})
}

func (a timedAuth) AuthEnable(ctx context.Context) (*clientv3.AuthEnableResponse, error) {
	return call(a.t, ctx, "AuthEnable", "", a.Auth.AuthEnable)
}

func (a timedAuth) AuthDisable(ctx context.Context) (*clientv3.AuthDisableResponse, error) {
	return call(a.t, ctx, "AuthDisable", "", a.Auth.AuthDisable)
}

func (a timedAuth) AuthStatus(ctx context.Context) (*clientv3.AuthStatusResponse, error) {
	return call(a.t, ctx, "AuthStatus", "", a.Auth.AuthStatus)
}

func (a timedAuth) UserAdd(ctx context.Context, name, password string) (*clientv3.AuthUserAddResponse, error) {
	return call(a.t, ctx, "UserAdd", "", func(ctx context.Context) (*clientv3.AuthUserAddResponse, error) {
		return a.Auth.UserAdd(ctx, name, password)
	})
}

func (a timedAuth) UserAddWithOptions(ctx context.Context, name, password string, opt *clientv3.UserAddOptions) (*clientv3.AuthUserAddResponse, error) {
	return call(a.t, ctx, "UserAddWithOptions", "", func(ctx context.Context) (*clientv3.AuthUserAddResponse, error) {
		return a.Auth.UserAddWithOptions(ctx, name, password, opt)
	})
}

func (a timedAuth) UserDelete(ctx context.Context, name string) (*clientv3.AuthUserDeleteResponse, error) {
	return call(a.t, ctx, "UserDelete", "", func(ctx context.Context) (*clientv3.AuthUserDeleteResponse, error) {
		return a.Auth.UserDelete(ctx, name)
	})
}

func (a timedAuth) UserChangePassword(ctx context.Context, name, password string) (*clientv3.AuthUserChangePasswordResponse, error) {
	return call(a.t, ctx, "UserChangePassword", "", func(ctx context.Context) (*clientv3.AuthUserChangePasswordResponse, error) {
		return a.Auth.UserChangePassword(ctx, name, password)
	})
}

func (a timedAuth) UserGrantRole(ctx context.Context, user, role string) (*clientv3.AuthUserGrantRoleResponse, error) {
	return call(a.t, ctx, "UserGrantRole", "", func(ctx context.Context) (*clientv3.AuthUserGrantRoleResponse, error) {
		return a.Auth.UserGrantRole(ctx, user, role)
	})
}

func (a timedAuth) UserGet(ctx context.Context, name string) (*clientv3.AuthUserGetResponse, error) {
	return call(a.t, ctx, "UserGet", "", func(ctx context.Context) (*clientv3.AuthUserGetResponse, error) { return a.Auth.UserGet(ctx, name) })
}

func (a timedAuth) UserList(ctx context.Context) (*clientv3.AuthUserListResponse, error) {
	return call(a.t, ctx, "UserList", "", a.Auth.UserList)
}

func (a timedAuth) UserRevokeRole(ctx context.Context, name, role string) (*clientv3.AuthUserRevokeRoleResponse, error) {
	return call(a.t, ctx, "UserRevokeRole", "", func(ctx context.Context) (*clientv3.AuthUserRevokeRoleResponse, error) {
		return a.Auth.UserRevokeRole(ctx, name, role)
	})
}

func (a timedAuth) RoleAdd(ctx context.Context, name string) (*clientv3.AuthRoleAddResponse, error) {
	return call(a.t, ctx, "RoleAdd", "", func(ctx context.Context) (*clientv3.AuthRoleAddResponse, error) { return a.Auth.RoleAdd(ctx, name) })
}

func (a timedAuth) RoleGrantPermission(ctx context.Context, name, key, rangeEnd string, permType clientv3.PermissionType) (*clientv3.AuthRoleGrantPermissionResponse, error) {
	return call(a.t, ctx, "RoleGrantPermission", "", func(ctx context.Context) (*clientv3.AuthRoleGrantPermissionResponse, error) {
		return a.Auth.RoleGrantPermission(ctx, name, key, rangeEnd, permType)
	})
}

func (a timedAuth) RoleGet(ctx context.Context, role string) (*clientv3.AuthRoleGetResponse, error) {
	return call(a.t, ctx, "RoleGet", "", func(ctx context.Context) (*clientv3.AuthRoleGetResponse, error) { return a.Auth.RoleGet(ctx, role) })
}

func (a timedAuth) RoleList(ctx context.Context) (*clientv3.AuthRoleListResponse, error) {
	return call(a.t, ctx, "RoleList", "", a.Auth.RoleList)
}

func (a timedAuth) RoleRevokePermission(ctx context.Context, role, key, rangeEnd string) (*clientv3.AuthRoleRevokePermissionResponse, error) {
	return call(a.t, ctx, "RoleRevokePermission", "", func(ctx context.Context) (*clientv3.AuthRoleRevokePermissionResponse, error) {
		return a.Auth.RoleRevokePermission(ctx, role, key, rangeEnd)
	})
}

func (a timedAuth) RoleDelete(ctx context.Context, role string) (*clientv3.AuthRoleDeleteResponse, error) {
	return call(a.t, ctx, "RoleDelete", "", func(ctx context.Context) (*clientv3.AuthRoleDeleteResponse, error) {
		return a.Auth.RoleDelete(ctx, role)
	})
}
