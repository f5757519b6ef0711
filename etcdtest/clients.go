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

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/clients"
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
// (clients.WithCallTimeout).
func (b *common) newClient(endpoints []string) (*clientv3.Client, error) {
	return b.newClientAs(endpoints, credentials)
}

func (b *common) newClientAs(endpoints []string, who login) (*clientv3.Client, error) {
	cli, err := clientv3.New(b.clientConfig(endpoints, who))
	if err != nil {
		return nil, fmt.Errorf("etcdtest: create a client for %v: %w", endpoints, err)
	}
	clients.WithCallTimeout(cli, b.cfg.CallTimeout, newCallTimeoutError)
	return cli, nil
}

// clientConfig configures a client of the given endpoints of this
// cluster: its TLS and, unless anonymous, its credentials; no logging into
// the test process's output, keep-alives that notice a frozen member under
// a call or stream (keepAliveTime, keepAliveTimeout), and reconnection
// within milliseconds after a member comes back.
func (b *common) clientConfig(endpoints []string, who login) clientv3.Config {
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
	if s := b.sec; s != nil {
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

// newCallTimeoutError is the error of a call on a toolkit client that
// Config.CallTimeout ended (clients.WithCallTimeout).
func newCallTimeoutError(ctx context.Context, method string, endpoints []string, d time.Duration, err error) error {
	return &CallTimeoutError{Method: method, Endpoints: endpoints, Timeout: d, InSpec: ctx.Value("GINKGO_SPEC_CONTEXT") != nil, Err: err}
}

// CallTimeoutError is the error of a call on a toolkit client that got no
// answer within Config.CallTimeout, the deadline the client gave it because
// its context had none. It is a timeout like any other to callers that
// check: errors.Is(err, context.DeadlineExceeded) holds and its gRPC
// status code (status.Code) is codes.DeadlineExceeded.
//
// Inside a Ginkgo spec the call's context is as a rule the spec's
// SpecContext, which has no deadline even under SpecTimeout or
// NodeTimeout: Ginkgo cancels it itself and does not expose when it will
// (Ginkgo v2's SpecContext and SpecReport carry no timeout). So there too
// Config.CallTimeout bounds a call, and InSpec says so. A call that is to
// wait longer takes a context of its own: context.WithTimeout(ctx, d).
type CallTimeoutError struct {
	Method    string        // the client method, such as "Get"
	Endpoints []string      // where the call could go
	Timeout   time.Duration // Config.CallTimeout
	InSpec    bool          // the call's context was (derived from) a Ginkgo SpecContext
	Err       error         // what the client returned, context.DeadlineExceeded as a rule
}

func (e *CallTimeoutError) Error() string {
	where := "member " + strings.Join(e.Endpoints, ", ")
	if len(e.Endpoints) > 1 {
		where = "any of the members " + strings.Join(e.Endpoints, ", ")
	}
	why := "the call's context had no deadline, so the toolkit's client gave it this one"
	if e.InSpec {
		why = "the call's context is Ginkgo's SpecContext, which has no deadline even under SpecTimeout or NodeTimeout (Ginkgo cancels it itself and does not say when), so the bound that applied is the toolkit client's Config.CallTimeout, not the spec's timeout"
	}
	return fmt.Sprintf("etcdtest: %s: no answer from %s within Config.CallTimeout (%v); %s (a paused or isolated member never answers; to wait longer, pass context.WithTimeout(ctx, d) or raise Config.CallTimeout): %v",
		e.Method, where, e.Timeout, why, e.Err)
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
