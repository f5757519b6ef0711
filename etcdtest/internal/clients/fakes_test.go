package clients

import (
	"context"
	"errors"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// member stands in for an etcd member behind a client: each call records
// the deadline of the context it got, then answers at once if answer is
// set, or, like a paused member, waits until its context ends.
type member struct {
	answer bool

	mu        sync.Mutex
	deadlines map[string]deadline
}

// deadline is what a call saw of its context's deadline.
type deadline struct {
	at time.Time
	ok bool
}

func (f *member) serve(ctx context.Context, method string) error {
	at, ok := ctx.Deadline()
	f.mu.Lock()
	if f.deadlines == nil {
		f.deadlines = map[string]deadline{}
	}
	f.deadlines[method] = deadline{at, ok}
	f.mu.Unlock()
	if f.answer {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(10 * time.Second): // so a missing deadline fails the test instead of hanging it
		return errors.New(method + ": no deadline ended the call within 10s")
	}
}

func (f *member) deadline(method string) (deadline, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, called := f.deadlines[method]
	return d, called
}

// newClient returns a client without a connection whose KV, Lease,
// Cluster, Maintenance, Auth and Watcher are f, wrapped by WithCallTimeout
// with d and an error that records its arguments.
func newClient(f *member, d time.Duration) *clientv3.Client {
	cli := clientv3.NewCtxClient(context.Background())
	cli.KV = fakeKV{f: f}
	cli.Lease = fakeLease{f: f}
	cli.Cluster = fakeCluster{f: f}
	cli.Maintenance = fakeMaintenance{f: f}
	cli.Auth = fakeAuth{f: f}
	cli.Watcher = fakeWatcher{f: f}
	WithCallTimeout(cli, d, newTimeoutError)
	return cli
}

// timeoutError is the error the tests' constructor makes.
type timeoutError struct {
	method    string
	endpoints []string
	d         time.Duration
	err       error
}

func newTimeoutError(_ context.Context, method string, endpoints []string, d time.Duration, err error) error {
	return &timeoutError{method, endpoints, d, err}
}

func (e *timeoutError) Error() string { return e.method + " timed out: " + e.err.Error() }
func (e *timeoutError) Unwrap() error { return e.err }

// The fakes embed the interface (nil) for the methods the tests do not call.

type fakeKV struct{ f *member }

func (k fakeKV) Put(ctx context.Context, _, _ string, _ ...clientv3.OpOption) (*clientv3.PutResponse, error) {
	return &clientv3.PutResponse{}, k.f.serve(ctx, "Put")
}
func (k fakeKV) Get(ctx context.Context, _ string, _ ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	return &clientv3.GetResponse{}, k.f.serve(ctx, "Get")
}
func (k fakeKV) Delete(ctx context.Context, _ string, _ ...clientv3.OpOption) (*clientv3.DeleteResponse, error) {
	return &clientv3.DeleteResponse{}, k.f.serve(ctx, "Delete")
}
func (k fakeKV) Compact(ctx context.Context, _ int64, _ ...clientv3.CompactOption) (*clientv3.CompactResponse, error) {
	return &clientv3.CompactResponse{}, k.f.serve(ctx, "Compact")
}
func (k fakeKV) Do(ctx context.Context, _ clientv3.Op) (clientv3.OpResponse, error) {
	return clientv3.OpResponse{}, k.f.serve(ctx, "Do")
}
func (k fakeKV) Txn(ctx context.Context) clientv3.Txn { return &fakeTxn{f: k.f, ctx: ctx} }

// fakeTxn serves its Commit under the context Txn got, as clientv3's does.
type fakeTxn struct {
	f     *member
	ctx   context.Context
	ifs   int
	thens int
	elses int
}

func (x *fakeTxn) If(cs ...clientv3.Cmp) clientv3.Txn   { x.ifs += len(cs); return x }
func (x *fakeTxn) Then(ops ...clientv3.Op) clientv3.Txn { x.thens += len(ops); return x }
func (x *fakeTxn) Else(ops ...clientv3.Op) clientv3.Txn { x.elses += len(ops); return x }
func (x *fakeTxn) Commit() (*clientv3.TxnResponse, error) {
	err := x.f.serve(x.ctx, "Txn")
	return &clientv3.TxnResponse{Succeeded: x.ifs == 1 && x.thens == 2 && x.elses == 1}, err
}

type fakeLease struct {
	f *member
}

func (l fakeLease) Grant(ctx context.Context, _ int64) (*clientv3.LeaseGrantResponse, error) {
	return &clientv3.LeaseGrantResponse{}, l.f.serve(ctx, "Grant")
}
func (l fakeLease) Revoke(ctx context.Context, _ clientv3.LeaseID) (*clientv3.LeaseRevokeResponse, error) {
	return &clientv3.LeaseRevokeResponse{}, l.f.serve(ctx, "Revoke")
}
func (l fakeLease) TimeToLive(ctx context.Context, _ clientv3.LeaseID, _ ...clientv3.LeaseOption) (*clientv3.LeaseTimeToLiveResponse, error) {
	return &clientv3.LeaseTimeToLiveResponse{}, l.f.serve(ctx, "TimeToLive")
}
func (l fakeLease) Leases(ctx context.Context) (*clientv3.LeaseLeasesResponse, error) {
	return &clientv3.LeaseLeasesResponse{}, l.f.serve(ctx, "Leases")
}
func (l fakeLease) KeepAlive(ctx context.Context, _ clientv3.LeaseID) (<-chan *clientv3.LeaseKeepAliveResponse, error) {
	return nil, l.f.serve(ctx, "KeepAlive")
}
func (l fakeLease) KeepAliveOnce(ctx context.Context, _ clientv3.LeaseID) (*clientv3.LeaseKeepAliveResponse, error) {
	return &clientv3.LeaseKeepAliveResponse{}, l.f.serve(ctx, "KeepAliveOnce")
}
func (l fakeLease) Close() error { return nil }

type fakeCluster struct {
	clientv3.Cluster
	f *member
}

func (c fakeCluster) MemberList(ctx context.Context, _ ...clientv3.OpOption) (*clientv3.MemberListResponse, error) {
	return &clientv3.MemberListResponse{}, c.f.serve(ctx, "MemberList")
}
func (c fakeCluster) MemberRemove(ctx context.Context, _ uint64) (*clientv3.MemberRemoveResponse, error) {
	return &clientv3.MemberRemoveResponse{}, c.f.serve(ctx, "MemberRemove")
}

type fakeMaintenance struct {
	clientv3.Maintenance
	f *member
}

func (m fakeMaintenance) AlarmList(ctx context.Context) (*clientv3.AlarmResponse, error) {
	return &clientv3.AlarmResponse{}, m.f.serve(ctx, "AlarmList")
}
func (m fakeMaintenance) Status(ctx context.Context, _ string) (*clientv3.StatusResponse, error) {
	return &clientv3.StatusResponse{}, m.f.serve(ctx, "Status")
}
func (m fakeMaintenance) Defragment(ctx context.Context, _ string) (*clientv3.DefragmentResponse, error) {
	return &clientv3.DefragmentResponse{}, m.f.serve(ctx, "Defragment")
}
func (m fakeMaintenance) MoveLeader(ctx context.Context, _ uint64) (*clientv3.MoveLeaderResponse, error) {
	return &clientv3.MoveLeaderResponse{}, m.f.serve(ctx, "MoveLeader")
}
func (m fakeMaintenance) SnapshotWithVersion(ctx context.Context) (*clientv3.SnapshotResponse, error) {
	return &clientv3.SnapshotResponse{}, m.f.serve(ctx, "SnapshotWithVersion")
}

type fakeAuth struct {
	clientv3.Auth
	f *member
}

func (a fakeAuth) AuthStatus(ctx context.Context) (*clientv3.AuthStatusResponse, error) {
	return &clientv3.AuthStatusResponse{}, a.f.serve(ctx, "AuthStatus")
}
func (a fakeAuth) UserAdd(ctx context.Context, _, _ string) (*clientv3.AuthUserAddResponse, error) {
	return &clientv3.AuthUserAddResponse{}, a.f.serve(ctx, "UserAdd")
}

type fakeWatcher struct {
	f *member
}

func (w fakeWatcher) Watch(ctx context.Context, _ string, _ ...clientv3.OpOption) clientv3.WatchChan {
	ch := make(chan clientv3.WatchResponse)
	go func() {
		defer close(ch)
		w.f.serve(ctx, "Watch")
	}()
	return ch
}
func (w fakeWatcher) RequestProgress(ctx context.Context) error {
	return w.f.serve(ctx, "RequestProgress")
}
func (w fakeWatcher) Close() error { return nil }
