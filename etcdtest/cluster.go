package etcdtest

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Cluster is a running etcd cluster: real etcd processes on 127.0.0.1,
// started by Start and stopped by Stop.
type Cluster struct {
	cfg     Config
	bin     etcdBinary
	token   string
	id      uint64
	dir     string
	owner   *os.File // flock held while the cluster lives; see sweep.go
	walDir  string   // parent of the members' WAL dirs when not under dir
	walLock *os.File
	ports   *portSet
	members []*Member
	client  *clientv3.Client
	ext     *external // non-nil against an external cluster
	sec     *security // TLS material and credentials; see tls.go

	faultMu sync.Mutex
	groups  []int // partition group of each member; nil when fully connected
	links   []*ClientLink

	netf atomic.Pointer[netFaults] // delay, loss, one-way cuts (netfaults.go); nil when none; set under faultMu

	noSettle atomic.Int32 // > 0: faults return without settling; see NoSettle
	routeMu  sync.Mutex   // serialises re-routing the shared client; see route

	booted  atomic.Bool // every member has served once; see peerProxy
	started atomic.Bool
	pending string // set on a BeforeSuite handle: what to say if it is used too early

	stopOnce sync.Once
	stopErr  error
	stopped  chan struct{}
}

// testHookPortsReserved lets a test take a reserved port the way an
// outsider would, between reservation and use.
var testHookPortsReserved func(ports []int)

// errPortTaken marks a boot that failed because an outsider took a reserved port.
var errPortTaken = errors.New("address already in use")

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

// start boots a cluster into c, which is empty (a BeforeSuite handle is
// filled in place, so the handle users hold becomes the cluster).
func (c *Cluster) start(ctx context.Context, cfg Config) error {
	if eps := os.Getenv(EnvEndpoints); eps != "" {
		return c.startExternal(ctx, cfg, eps)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	bin, err := provision(ctx, cfg)
	if err != nil {
		return err
	}
	sweepLeftovers(cfg.DataDir)
	sweepLeftovers(os.TempDir())
	for attempt := 1; ; attempt++ {
		err := c.boot(ctx, cfg, bin)
		if err == nil {
			c.started.Store(true)
			return nil
		}
		if !errors.Is(err, errPortTaken) || attempt == 3 {
			return err
		}
	}
}

// startContext bounds ctx by Config.StartTimeout.
func (c *Cluster) startContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.cfg.StartTimeout)
}

func (c *Cluster) boot(ctx context.Context, cfg Config, bin etcdBinary) (err error) {
	c.cfg, c.bin, c.stopped = cfg, bin, make(chan struct{})
	defer func() {
		if err != nil {
			c.teardown(context.Background())
			c.members, c.client, c.dir, c.owner, c.walDir, c.walLock, c.ports = nil, nil, "", nil, "", nil, nil
		}
	}()
	ctx, cancel := c.startContext(ctx)
	defer cancel()

	c.token = "etcdtest-" + strconv.Itoa(os.Getpid()) + "-" + randomHex(8)
	if c.dir, c.owner, err = makeClusterDir(cfg.DataDir); err != nil {
		return err
	}
	if !cfg.Fsync && bin.version.atLeast(3, 5) && isTmpfs(cfg.DataDir) {
		// etcd preallocates two 64 MB WAL segments per member with
		// fallocate, which on tmpfs is real memory (370 MB for 3 members)
		// that takes tens of milliseconds to fill and to free. Without
		// fsync a disk filesystem serves the WAL as fast, from page cache.
		if c.walDir, c.walLock, err = makeClusterDir(os.TempDir()); err != nil {
			return err
		}
	}
	if c.sec, err = newClusterSecurity(c.dir, cfg); err != nil {
		return err
	}
	if c.ports, err = reservePorts(2 * cfg.Size); err != nil {
		return err
	}
	if testHookPortsReserved != nil {
		testHookPortsReserved(c.ports.ports)
	}
	for i := 0; i < cfg.Size; i++ {
		name := cfg.Name + strconv.Itoa(i+1)
		m := &Member{
			c: c, index: i, name: name,
			clientPort: c.ports.ports[2*i],
			peerPort:   c.ports.ports[2*i+1],
			dataDir:    filepath.Join(c.dir, name),
			log:        newLogBuffer(cfg.LogLimit, cfg.LogOutput, "["+name+"] "),
			state:      "new",
		}
		if m.proxy, err = newPeerProxy(c, i, "127.0.0.1:"+strconv.Itoa(m.peerPort)); err != nil {
			return fmt.Errorf("etcdtest: listen for member %s's peer proxy: %w", name, err)
		}
		m.peerURL = m.proxy.URL()
		m.clientURL = c.scheme() + "://127.0.0.1:" + strconv.Itoa(m.clientPort)
		c.members = append(c.members, m)
	}
	c.id = clusterID(c.members, c.token)
	for _, m := range c.members {
		if m.client, err = c.newClient([]string{m.ClientURL()}); err != nil {
			return err
		}
	}
	if c.client, err = c.newClient(c.endpoints()); err != nil {
		return err
	}
	for _, m := range c.members {
		if err := m.start(); err != nil {
			return err
		}
	}
	if err := c.waitReady(ctx); err != nil {
		return err
	}
	if err := c.enableAuth(ctx); err != nil {
		return err
	}
	c.booted.Store(true)
	return nil
}

// memberID and clusterID compute the IDs etcd derives for a new cluster
// from the advertised peer URLs and the cluster token (etcdserver's
// membership.computeMemberID and RaftCluster.genID), so readiness can tell
// this cluster's members from any other etcd on the same ports.
func memberID(peerURL, token string) uint64 {
	h := sha1.Sum([]byte(peerURL + token))
	return binary.BigEndian.Uint64(h[:8])
}

func clusterID(members []*Member, token string) uint64 {
	ids := make([]uint64, len(members))
	for i, m := range members {
		m.id = memberID(m.PeerURL(), token)
		ids[i] = m.id
	}
	slices.Sort(ids)
	b := make([]byte, 8*len(ids))
	for i, id := range ids {
		binary.BigEndian.PutUint64(b[8*i:], id)
	}
	h := sha1.Sum(b)
	return binary.BigEndian.Uint64(h[:8])
}

// waitReady polls until the cluster is usable, a member exits, or ctx ends.
func (c *Cluster) waitReady(ctx context.Context) error {
	var last error
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, m := range c.members {
			if done, err := m.exited(); done {
				return c.exitError(m, err)
			}
		}
		if last = c.readyOnce(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return c.timeoutError(ctx, "the cluster to become ready", last)
		case <-tick.C:
		}
	}
}

// readyOnce checks readiness once; nil means ready.
func (c *Cluster) readyOnce(ctx context.Context) error {
	for _, m := range c.members { // cheap check first: is every client port open?
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(m.clientPort), 100*time.Millisecond)
		if err != nil {
			return fmt.Errorf("member %s does not listen for clients yet", m.name)
		}
		conn.Close()
	}
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	leaders := make([]uint64, len(c.members))
	errs := make([]error, len(c.members))
	var wg sync.WaitGroup
	for i, m := range c.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			leaders[i], errs[i] = c.memberStatus(ctx, m)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for i := range leaders {
		if leaders[i] != leaders[0] {
			return fmt.Errorf("members disagree on the raft leader (%x vs %x)", leaders[0], leaders[i])
		}
	}
	if err := c.checkMembership(ctx); err != nil {
		return err
	}
	if _, err := c.client.Get(ctx, "etcdtest-readiness"); err != nil {
		return fmt.Errorf("linearizable read failed: %w", err)
	}
	return nil
}

// memberStatus checks that m is this cluster's member and returns the leader it sees.
func (c *Cluster) memberStatus(ctx context.Context, m *Member) (uint64, error) {
	st, err := m.status(ctx)
	if err != nil {
		return 0, fmt.Errorf("member %s: status: %w", m.name, err)
	}
	if st.Header.ClusterId != c.id || st.Header.MemberId != m.id {
		return 0, fmt.Errorf("member %s: %s answers as cluster %x member %x, not this cluster's %x/%x (another etcd on this port?)",
			m.name, m.ClientURL(), st.Header.ClusterId, st.Header.MemberId, c.id, m.id)
	}
	if st.Leader == 0 {
		return 0, fmt.Errorf("member %s sees no raft leader yet", m.name)
	}
	if c.memberByID(st.Leader) == nil {
		return 0, fmt.Errorf("member %s reports leader %x, which is not a member of this cluster", m.name, st.Leader)
	}
	return st.Leader, nil
}

// checkMembership checks that etcd's member list is exactly this cluster's members.
func (c *Cluster) checkMembership(ctx context.Context) error {
	resp, err := c.client.MemberList(ctx)
	if err != nil {
		return fmt.Errorf("member list: %w", err)
	}
	var got, want []string
	for _, pm := range resp.Members {
		got = append(got, fmt.Sprintf("%s=%x", pm.Name, pm.ID))
	}
	for _, m := range c.members {
		want = append(want, fmt.Sprintf("%s=%x", m.name, m.id))
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		return fmt.Errorf("member list is %v, want %v (not all members have published their names yet?)", got, want)
	}
	return nil
}

// waitServing polls until m answers a linearizable read.
func (c *Cluster) waitServing(ctx context.Context, m *Member) error {
	var last error
	for {
		if done, err := m.exited(); done {
			return c.exitError(m, err)
		}
		qctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		_, last = c.memberStatus(qctx, m)
		if last == nil {
			_, last = m.client.Get(qctx, "etcdtest-readiness")
		}
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return c.timeoutError(ctx, "member "+m.name+" to serve again", last)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (c *Cluster) exitError(m *Member, err error) error {
	logs := m.Logs()
	cause := fmt.Errorf("etcdtest: member %s exited during boot (%v); fix the cause in its log below (bad Config.ExtraFlags? unusable Config.DataDir?)", m.name, err)
	if strings.Contains(logs, "address already in use") {
		cause = fmt.Errorf("etcdtest: member %s: a port reserved for it was taken by another program: %w", m.name, errPortTaken)
	}
	return fmt.Errorf("%w\n--- last lines of %s's log ---\n%s", cause, m.name, tail(logs, 3000))
}

func (c *Cluster) timeoutError(ctx context.Context, what string, last error) error {
	var b strings.Builder
	fmt.Fprintf(&b, "etcdtest: timed out after %v waiting for %s (%v); last check: %v.\n"+
		"Raise Config.StartTimeout or the context's deadline if the machine is slow; otherwise the members' logs below say what is wrong.",
		c.cfg.StartTimeout, what, context.Cause(ctx), last)
	for _, m := range c.members {
		fmt.Fprintf(&b, "\n--- last lines of %s's log (%s) ---\n%s", m.name, m.State(), tail(m.Logs(), 1500))
	}
	return errors.New(b.String())
}

// MemberByID returns the member with etcd member ID id — the ID a response
// header names (Header.MemberId: the member that served a request or a
// watch) or a Status reports as raft leader — or nil when no member has it.
func (c *Cluster) MemberByID(id uint64) *Member {
	c.mustBeStarted()
	return c.memberByID(id)
}

func (c *Cluster) memberByID(id uint64) *Member {
	for _, m := range c.members {
		if m.id == id {
			return m
		}
	}
	return nil
}

// Stop stops every member at once (SIGKILL: a test cluster's data is
// disposable, and a graceful stop of all members costs seconds in a failed
// leadership transfer), closes the clients, heals faults and removes the
// data. It is idempotent and safe to call concurrently.
func (c *Cluster) Stop(ctx context.Context) error {
	if !c.started.Load() && c.stopped == nil {
		return nil // a BeforeSuite handle whose boot never happened or failed
	}
	c.stopOnce.Do(func() {
		c.stopErr = c.teardown(ctx)
		close(c.stopped)
	})
	return c.stopErr
}

// Stopped reports whether Stop has been called.
func (c *Cluster) Stopped() bool { return isDone(c.stopped) }

func (c *Cluster) teardown(ctx context.Context) error {
	if c.ext != nil {
		return c.ext.stop(ctx)
	}
	var errs []error
	c.faultMu.Lock()
	c.groups = nil // faults heal with the cluster
	c.storeNetFaults(nil)
	links := c.links
	c.links = nil
	c.faultMu.Unlock()
	for _, l := range links {
		l.Close()
	}
	for _, m := range c.members {
		m.signal(syscall.SIGKILL, "stopped")
	}
	for _, m := range c.members {
		m.mu.Lock()
		p := m.proc
		m.mu.Unlock()
		if p == nil {
			continue
		}
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			errs = append(errs, fmt.Errorf("etcdtest: member %s (pid %d) survived SIGKILL for 10s", m.name, p.cmd.Process.Pid))
		}
	}
	var wg sync.WaitGroup
	closeClient := func(cl *clientv3.Client) {
		if cl != nil {
			wg.Add(1)
			go func() { defer wg.Done(); cl.Close() }()
		}
	}
	closeClient(c.client)
	for _, m := range c.members {
		closeClient(m.client)
		if m.proxy != nil {
			wg.Add(1)
			go func() { defer wg.Done(); m.proxy.Close() }()
		}
	}
	wg.Wait()
	if c.dir != "" {
		if err := removeClusterDir(c.dir, c.owner); err != nil {
			errs = append(errs, fmt.Errorf("etcdtest: remove cluster data %s: %w", c.dir, err))
		}
	}
	if c.walDir != "" {
		if err := removeClusterDir(c.walDir, c.walLock); err != nil {
			errs = append(errs, fmt.Errorf("etcdtest: remove cluster WAL %s: %w", c.walDir, err))
		}
	}
	if c.ports != nil {
		c.ports.release()
	}
	return errors.Join(errs...)
}

// Members returns the members in order (node1 first).
func (c *Cluster) Members() []*Member {
	c.mustBeStarted()
	return slices.Clone(c.members)
}

// Member returns member i, 0-based. It panics if i is out of range.
func (c *Cluster) Member(i int) *Member {
	c.mustBeStarted()
	if i < 0 || i >= len(c.members) {
		panic(fmt.Sprintf("etcdtest: Member(%d) of a %d-member cluster: use 0..%d", i, len(c.members), len(c.members)-1))
	}
	return c.members[i]
}

// Endpoints returns the client URLs, one per member.
func (c *Cluster) Endpoints() []string {
	c.mustBeStarted()
	return c.endpoints()
}

func (c *Cluster) endpoints() []string {
	eps := make([]string, len(c.members))
	for i, m := range c.members {
		eps[i] = m.ClientURL()
	}
	return eps
}

// Addr returns the client URL of member i.
func (c *Cluster) Addr(i int) string { return c.Member(i).ClientURL() }

// Client returns a client of all members. It is shared and closed by Stop;
// do not close it.
func (c *Cluster) Client() *clientv3.Client {
	c.mustBeStarted()
	return c.client
}

// Key returns the key name read through the cluster's shared client.
func (c *Cluster) Key(name string) Key {
	c.mustBeStarted()
	return Key{name: name, client: c.client, via: "cluster"}
}

// Version returns the version of the etcd executable the members run ("v3.7.3").
func (c *Cluster) Version() string { return c.bin.version.String() }

// Binary returns the path of the etcd executable the members run.
func (c *Cluster) Binary() string { return c.bin.path }

// ID returns the cluster ID.
func (c *Cluster) ID() uint64 { return c.id }

// Dir returns the directory holding the members' data; Stop removes it.
func (c *Cluster) Dir() string { return c.dir }

// Leader returns the member that is raft leader, as the running members
// report it (the answer from the highest raft term wins).
func (c *Cluster) Leader(ctx context.Context) (*Member, error) {
	if err := c.checkLocal("Leader"); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var (
		mu       sync.Mutex
		best     *Member
		bestTerm uint64
		errs     []error
		wg       sync.WaitGroup
	)
	for _, m := range c.members {
		if m.State() != "running" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := m.status(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", m.name, err))
				return
			}
			// A member that is gone cannot lead, even if the others have not noticed yet.
			l := c.memberByID(st.Leader)
			switch {
			case l == nil:
				errs = append(errs, fmt.Errorf("%s sees no leader", m.name))
			case !l.alive():
				errs = append(errs, fmt.Errorf("%s still follows %s, which is %s", m.name, l.name, l.State()))
			case st.RaftTerm >= bestTerm:
				best, bestTerm = l, st.RaftTerm
			}
		}()
	}
	wg.Wait()
	if best == nil {
		if len(errs) == 0 {
			return nil, errors.New("etcdtest: no member reports a raft leader (no member is running)")
		}
		var why []string
		for _, e := range errs {
			why = append(why, e.Error())
		}
		return nil, fmt.Errorf("etcdtest: no member reports a raft leader (%s)", strings.Join(why, "; "))
	}
	return best, nil
}

// Reset deletes every key: cheap isolation between specs sharing a cluster.
func (c *Cluster) Reset(ctx context.Context) error {
	c.mustBeStarted()
	if _, err := c.client.Delete(ctx, "\x00", clientv3.WithFromKey()); err != nil {
		return fmt.Errorf("etcdtest: reset: %w", err)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
