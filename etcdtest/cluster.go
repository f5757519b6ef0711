package etcdtest

// A Cluster is a handle. What it points at is chosen once, when the cluster
// starts: a local cluster (etcd processes this package booted, local.go) or
// an external one ($ETCDTEST_ENDPOINTS, external.go). Both are a backend:
// what every cluster has (members, clients, TLS) plus the few things that
// differ. Methods that need processes of their own (faults, settling, the
// raft leader) ask the backend for them once, at their top, and against an
// external cluster get ErrExternal there.
//
// A handle from BeforeSuite exists before its cluster boots and points at
// nothing until then; using it that early panics with a message saying so.
// A start that fails leaves the handle as it was: nothing is filled in
// part-way.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Cluster is a running etcd cluster: real etcd processes on 127.0.0.1,
// started by Start and stopped by Stop.
type Cluster struct {
	b       atomic.Pointer[backend] // nil until the cluster has started
	pending string                  // a BeforeSuite handle's message for use before boot
	ginkgo  bool                    // started by a Ginkgo helper: Reset notes on GinkgoWriter
}

// backend is what a started Cluster points at.
type backend interface {
	// core is what every cluster has.
	core() *common
	// teardown releases everything the cluster holds; Stop calls it once.
	teardown(ctx context.Context) error
	// local returns the cluster's own processes for op (a fault, settling),
	// or an error wrapping ErrExternal.
	local(op string) (*local, error)
	// prefix is the key prefix every client of the cluster works under.
	prefix() string
	// diagnostics describes the cluster for a failure report.
	diagnostics() string
}

// common is what every cluster has, local or external. It is set when the
// cluster starts and does not change after, except that members come and
// go through their own state.
type common struct {
	cfg    Config
	bin    etcdBinary // path "" and version as reported against an external cluster
	id     uint64
	dir    string                    // the members' data; "" against an external cluster
	list   atomic.Pointer[[]*Member] // see members
	client *clientv3.Client
	sec    *security

	stopOnce sync.Once
	stopErr  error
	stopped  chan struct{}
}

func (b *common) core() *common { return b }

// members returns every member the cluster has had, in the order they
// joined, removed ones included (in state Removed), so that an index always
// names the same member. The slice is never changed in place: AddMember
// publishes a longer copy, and readers on other goroutines (the proxies,
// settling) keep the one they loaded.
func (b *common) members() []*Member {
	if p := b.list.Load(); p != nil {
		return *p
	}
	return nil
}

// addToList publishes the member list with m appended. Changes of the
// membership are serialised by their callers.
func (b *common) addToList(m *Member) {
	old := b.members()
	next := append(old[:len(old):len(old)], m)
	b.list.Store(&next)
}

// ErrExternal is returned by fault methods against an external cluster
// ($ETCDTEST_ENDPOINTS): the toolkit does not own those processes.
var ErrExternal = errors.New("etcdtest: not available against an external cluster ($ETCDTEST_ENDPOINTS is set)")

// Start boots a cluster described by cfg and returns once it is usable:
// every member serves, they agree on one raft leader, the cluster ID and
// member names are the ones this cluster created, and a linearizable read
// succeeds. On error nothing is left running or on disk. The caller must
// call Stop.
//
// When $ETCDTEST_ENDPOINTS is set, Start uses that existing cluster instead
// (see the package doc).
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	c := &Cluster{}
	if err := c.start(ctx, cfg); err != nil {
		return nil, err
	}
	return c, nil
}

// start starts a backend and points c at it.
func (c *Cluster) start(ctx context.Context, cfg Config) error {
	var (
		b   backend
		err error
	)
	if eps := os.Getenv(EnvEndpoints); eps != "" {
		b, err = startExternal(ctx, cfg, eps)
	} else {
		b, err = startLocal(ctx, cfg)
	}
	if err != nil {
		return err
	}
	c.b.Store(&b)
	return nil
}

// get returns what c points at. Using a handle that points at nothing is
// a mistake in the calling code, reported the way a nil map write is.
func (c *Cluster) get() backend {
	if b := c.b.Load(); b != nil {
		return *b
	}
	if c.pending != "" {
		panic(c.pending)
	}
	panic("etcdtest: this Cluster was not started: get one from Start, StartT, Launch or BeforeSuite")
}

// core returns what every cluster has.
func (c *Cluster) core() *common { return c.get().core() }

// local returns the cluster's own processes, for op.
func (c *Cluster) local(op string) (*local, error) { return c.get().local(op) }

// Stop stops the cluster. For a cluster the toolkit booted, that means every
// member at once with SIGKILL (a test cluster's data is disposable, and a
// graceful stop of all members costs seconds in a failed leadership
// transfer; Member.Stop is the graceful stop of one member), then it closes
// the clients, heals faults and removes the data. Against an external
// cluster it removes this process's keys. It is idempotent and safe to call
// concurrently; on a handle whose cluster never started it does nothing.
func (c *Cluster) Stop(ctx context.Context) error {
	p := c.b.Load()
	if p == nil {
		return nil // a BeforeSuite handle whose boot never happened or failed
	}
	b := *p
	cc := b.core()
	cc.stopOnce.Do(func() {
		cc.stopErr = b.teardown(ctx)
		close(cc.stopped)
	})
	return cc.stopErr
}

// Stopped reports whether Stop has been called.
func (c *Cluster) Stopped() bool {
	p := c.b.Load()
	return p != nil && isDone((*p).core().stopped)
}

// External reports whether the cluster is an existing one ($ETCDTEST_ENDPOINTS).
func (c *Cluster) External() bool {
	_, ext := c.get().(*external)
	return ext
}

// Prefix returns the key prefix every client of this cluster works under:
// "" for a cluster the toolkit booted, "etcdtest/<host>-<pid>-<random>/"
// against an external cluster. Keys your code writes through Client,
// Member.Client or Key land under it; etcd itself shows them with it.
func (c *Cluster) Prefix() string { return c.get().prefix() }

// Diagnostics describes the cluster compactly for a failure report: the
// raft leader, any partition and other network faults, each member's
// state, and the tail of each member's log.
func (c *Cluster) Diagnostics() string { return c.get().diagnostics() }

// MemberByID returns the member with etcd member ID id — the ID a response
// header names (Header.MemberId: the member that served a request or a
// watch) or a Status reports as raft leader — or nil when no member has it.
func (c *Cluster) MemberByID(id uint64) *Member { return c.core().memberByID(id) }

func (b *common) memberByID(id uint64) *Member {
	for _, m := range b.members() {
		if m.id == id {
			return m
		}
	}
	return nil
}

// Members returns the members in order (node1 first).
func (c *Cluster) Members() []*Member { return slices.Clone(c.core().members()) }

// Member returns member i, 0-based. It panics if i is out of range.
func (c *Cluster) Member(i int) *Member {
	ms := c.core().members()
	if i < 0 || i >= len(ms) {
		panic(fmt.Sprintf("etcdtest: Member(%d) of a %d-member cluster: use 0..%d", i, len(ms), len(ms)-1))
	}
	return ms[i]
}

// Endpoints returns the client URLs, one per member.
func (c *Cluster) Endpoints() []string { return c.core().endpoints() }

func (b *common) endpoints() []string {
	eps := make([]string, len(b.members()))
	for i, m := range b.members() {
		eps[i] = m.ClientURL()
	}
	return eps
}

// Addr returns the client URL of member i.
func (c *Cluster) Addr(i int) string { return c.Member(i).ClientURL() }

// Client returns a client of all members. It is shared and closed by Stop;
// do not close it.
func (c *Cluster) Client() *clientv3.Client { return c.core().client }

// Key returns the key name read through the cluster's shared client.
func (c *Cluster) Key(name string) Key {
	return Key{name: name, client: c.core().client, via: "cluster"}
}

// Version returns the version of the etcd executable the cluster booted
// with ("v3.7.3"). With Config.MemberVersions or after Member.RestartOn,
// members may run others: see Member.Version and ClusterVersion.
func (c *Cluster) Version() string { return c.core().bin.Version.String() }

// Binary returns the path of the etcd executable the members run; "" against
// an external cluster.
func (c *Cluster) Binary() string { return c.core().bin.Path }

// ID returns the cluster ID.
func (c *Cluster) ID() uint64 { return c.core().id }

// Dir returns the directory holding the members' data; Stop removes it. It
// is "" against an external cluster.
func (c *Cluster) Dir() string { return c.core().dir }

// Leader returns the member that is raft leader, as the running members
// report it (the answer from the highest raft term wins). In this package
// "leader" always means etcd's raft leader; an election's leader is
// locker.Node.Leader's.
func (c *Cluster) Leader(ctx context.Context) (*Member, error) {
	l, err := c.local("Leader")
	if err != nil {
		return nil, err
	}
	return l.leader(ctx)
}

// Reset deletes every key: cheap isolation between specs sharing a cluster.
// It leaves faults alone: on a cluster from a Ginkgo helper it notes on
// the spec's GinkgoWriter which faults are still in force — killed or
// paused members, network faults, cut or slow ClientLinks — with the call
// that made each, and Diagnostics lists them too. It does not repair them:
// the spec that makes a fault undoes it in DeferCleanup, and a Reset that
// healed would hide the one that forgot. (PerSpec's specs each get a new
// cluster, so nothing is left over to note there.)
func (c *Cluster) Reset(ctx context.Context) error {
	if _, err := c.core().client.Delete(ctx, "\x00", clientv3.WithFromKey()); err != nil {
		return fmt.Errorf("etcdtest: reset: %w", err)
	}
	c.noteLeftovers()
	return nil
}
