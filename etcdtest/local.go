package etcdtest

// A local cluster is etcd processes this package boots on 127.0.0.1: ports
// reserved across processes (internal/host), a data directory that a sweep
// can tell is abandoned (internal/host), a peer proxy in front of each member
// (internal/proxy) through which the network faults act, and clients made once the
// members serve. startLocal builds one whole or, on any error, tears down
// what it built and returns nothing.

import (
	"context"
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

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/callsite"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/clients"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/host"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/netfault"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proc"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/provision"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proxy"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/raftid"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// local is a cluster of etcd processes this package booted.
type local struct {
	common
	token   string
	owner   *os.File // flock held while the cluster lives; see host.SweepLeftovers
	walDir  string   // parent of the members' WAL dirs when not under dir
	walLock *os.File
	ports   *host.PortSet
	// extraPorts are those of members added since the boot (membership.go).
	extraPorts []*host.PortSet
	opMu       sync.Mutex // serialises membership changes

	faults netfault.Store // partitions, one-way cuts, latency, loss

	linkMu sync.Mutex
	links  []*ClientLink

	madeNet callsite.Record // the calls that made the network faults in force

	noSettle atomic.Int32 // > 0: faults return without settling; see NoSettle
	routeMu  sync.Mutex   // serialises re-routing the shared client; see route

	booted atomic.Bool // every member has served once; see netfault.PeerPolicy
}

func (l *local) local(string) (*local, error) { return l, nil }

func (l *local) prefix() string { return "" }

// testHookPortsReserved lets a test take a reserved port the way an
// outsider would, between reservation and use.
var testHookPortsReserved func(ports []int)

// errPortTaken marks a boot that failed because an outsider took a reserved port.
var errPortTaken = errors.New("address already in use")

// startLocal provisions etcd and boots a cluster, retrying with new ports
// when an outsider takes a reserved one.
func startLocal(ctx context.Context, cfg Config) (*local, error) {
	if err := proc.CheckPlatform(localOS); err != nil {
		return nil, err
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	bin, err := provision.Resolve(ctx, cfg.Binary, cfg.Version, cfg.Failpoints)
	if err != nil {
		return nil, err
	}
	// Builds come first: they are not bounded by StartTimeout.
	bins := make([]etcdBinary, cfg.Size)
	for i := range bins {
		bins[i] = bin
		if i < len(cfg.MemberVersions) && cfg.MemberVersions[i] != "" {
			if bins[i], err = binaryFor(ctx, cfg.MemberVersions[i]); err != nil {
				return nil, fmt.Errorf("etcdtest: Config.MemberVersions[%d] %q: %w", i, cfg.MemberVersions[i], err)
			}
		}
	}
	host.SweepLeftovers(cfg.DataDir)
	host.SweepLeftovers(os.TempDir())
	if !proc.ParentDeathSignal { // the reaper is the members' lifeline (docs/platforms.md); failing it, the next sweep
		_ = reaper.Watch(cfg.DataDir)
	}
	fresh := func(ctx context.Context) (*local, error) {
		for attempt := 1; ; attempt++ {
			l, err := boot(ctx, cfg, bin, bins)
			if err == nil {
				return l, nil
			}
			if !errors.Is(err, errPortTaken) || attempt == 3 {
				return nil, err
			}
		}
	}
	if cfg.Spare && !sparesOff() {
		// No spares without the reaper: they could outlive the process on disk.
		if key, ok := spareKey(cfg, bin, bins); ok && reaper.Watch(cfg.DataDir) == nil {
			return spares.Get(ctx, key, fileStamps(cfg, bins), fresh)
		}
	}
	return fresh(ctx)
}

// startContext bounds ctx by Config.StartTimeout.
func (l *local) startContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, l.cfg.StartTimeout)
}

// boot starts one cluster. On error it has torn down what it built.
func boot(ctx context.Context, cfg Config, bin etcdBinary, bins []etcdBinary) (_ *local, err error) {
	l := &local{common: common{cfg: cfg, bin: bin, stopped: make(chan struct{})}}
	defer func() {
		if err != nil {
			l.teardown(context.Background())
		}
	}()
	ctx, cancel := l.startContext(ctx)
	defer cancel()

	l.token = "etcdtest-" + strconv.Itoa(os.Getpid()) + "-" + host.RandomHex(8)
	if l.dir, l.owner, err = host.MakeClusterDir(cfg.DataDir); err != nil {
		return nil, err
	}
	if !cfg.Fsync && bin.Version.AtLeast(3, 5) && host.IsTmpfs(cfg.DataDir) {
		// etcd preallocates two 64 MB WAL segments per member with
		// fallocate, which on tmpfs is real memory (370 MB for 3 members)
		// that takes tens of milliseconds to fill and to free. Without
		// fsync a disk filesystem serves the WAL as fast, from page cache.
		if l.walDir, l.walLock, err = host.MakeClusterDir(os.TempDir()); err != nil {
			return nil, err
		}
	}
	if l.sec, err = newClusterSecurity(l.dir, cfg); err != nil {
		return nil, err
	}
	if l.ports, err = host.ReservePorts(portsPerMember(cfg) * cfg.Size); err != nil {
		return nil, err
	}
	if testHookPortsReserved != nil {
		testHookPortsReserved(l.ports.Ports)
	}
	for i := 0; i < cfg.Size; i++ {
		if err := l.addMember(i, bins[i]); err != nil {
			return nil, err
		}
	}
	var ids []uint64
	for _, m := range l.members() {
		m.id = raftid.Member(m.PeerURL(), l.token)
		ids = append(ids, m.id)
	}
	l.id = raftid.Cluster(ids) // readiness checks the members answer with these
	// Until auth is on, the clients log in as nobody: readiness is checked
	// before there is a user to log in as (security.go, enableAuth).
	if err := l.connect(anonymous); err != nil {
		return nil, err
	}
	if err := l.restoreSnapshot(ctx); err != nil {
		return nil, err
	}
	for _, m := range l.members() {
		if err := m.start(); err != nil {
			return nil, err
		}
	}
	if err := l.waitReady(ctx); err != nil {
		return nil, err
	}
	if err := l.enableAuth(ctx); err != nil {
		return nil, err
	}
	l.booted.Store(true)
	return l, nil
}

// addMember creates member i of a booting cluster (not started): its name,
// ports, data dir, log and peer proxy.
func (l *local) addMember(i int, bin etcdBinary) error {
	m, err := l.newMember(i, l.ports.Ports[2*i], l.ports.Ports[2*i+1])
	if err != nil {
		return err
	}
	m.bin = bin
	if l.cfg.Failpoints {
		m.fp.Port = l.ports.Ports[2*l.cfg.Size+i] // after every member's client and peer ports
	}
	l.addToList(m)
	return nil
}

// newMember makes member i, listening on the given ports, with its peer
// proxy; it is neither started nor in the member list yet.
func (l *local) newMember(i, clientPort, peerPort int) (*Member, error) {
	name := l.cfg.Name + strconv.Itoa(i+1)
	m := &Member{
		c: &l.common, l: l, index: i, name: name,
		clientPort: clientPort,
		peerPort:   peerPort,
		dataDir:    filepath.Join(l.dir, name),
		log:        proc.NewLogBuffer(l.cfg.LogLimit, l.cfg.LogOutput, "["+name+"] "),
		bin:        l.bin,
	}
	m.fp.Name, m.fp.Log = name, m.log
	var err error
	if m.proxy, err = proxy.New("127.0.0.1:"+strconv.Itoa(m.peerPort), l.peerPolicy(m)); err != nil {
		return nil, fmt.Errorf("etcdtest: listen for member %s's peer proxy: %w", name, err)
	}
	m.peerURL = l.sec.scheme() + "://" + m.proxy.Addr()
	m.clientURL = l.sec.scheme() + "://127.0.0.1:" + strconv.Itoa(m.clientPort)
	return m, nil
}

// connect makes the shared client and each member's client, logged in as
// who says, closing the clients they replace.
func (l *local) connect(who login) error {
	clients := make([]*clientv3.Client, len(l.members())+1)
	errs := make([]error, len(clients))
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			eps := l.endpoints()
			if i > 0 {
				eps = []string{l.members()[i-1].ClientURL()}
			}
			clients[i], errs[i] = l.newClientAs(eps, who)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, cl := range clients {
			if cl != nil {
				cl.Close()
			}
		}
		return err
	}
	old := []*clientv3.Client{l.client}
	l.client = clients[0]
	for i, m := range l.members() {
		old = append(old, m.client)
		m.client = clients[i+1]
		clientsRefuse(m)
	}
	for _, o := range old {
		if o != nil {
			o.Close()
		}
	}
	return nil
}

// waitReady polls until the cluster is usable, a member exits, or ctx ends.
func (l *local) waitReady(ctx context.Context) error {
	var last error
	return poll(ctx, 5*time.Millisecond, func() (bool, error) {
		for _, m := range l.members() {
			if done, err := m.exited(); done {
				return false, l.exitError(m, err)
			}
		}
		last = l.readyOnce(ctx)
		return last == nil, nil
	}, func() error { return l.timeoutError(ctx, "the cluster to become ready", last) })
}

// readyOnce checks readiness once; nil means ready.
func (l *local) readyOnce(ctx context.Context) error {
	for _, m := range l.members() { // cheap check first: is every client port open?
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(m.clientPort), 100*time.Millisecond)
		if err != nil {
			return fmt.Errorf("member %s does not listen for clients yet", m.name)
		}
		conn.Close()
	}
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	leaders := make([]uint64, len(l.members()))
	errs := make([]error, len(l.members()))
	clients.EachAtOnce(ctx, l.members(), 500*time.Millisecond, func(ctx context.Context, i int, m *Member) {
		leaders[i], errs[i] = l.memberStatus(ctx, m)
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for i := range leaders {
		if leaders[i] != leaders[0] {
			return fmt.Errorf("members disagree on the raft leader (%x vs %x)", leaders[0], leaders[i])
		}
	}
	if err := l.checkMembership(ctx); err != nil {
		return err
	}
	if _, err := l.client.Get(ctx, "etcdtest-readiness"); err != nil {
		return fmt.Errorf("linearizable read failed: %w", err)
	}
	return nil
}

// memberStatus checks that m is this cluster's member and returns the leader it sees.
func (l *local) memberStatus(ctx context.Context, m *Member) (uint64, error) {
	st, err := m.status(ctx)
	if err != nil {
		return 0, fmt.Errorf("member %s: status: %w", m.name, err)
	}
	if st.Header.ClusterId != l.id || st.Header.MemberId != m.id {
		return 0, fmt.Errorf("member %s: %s answers as cluster %x member %x, not this cluster's %x/%x (another etcd on this port?)",
			m.name, m.ClientURL(), st.Header.ClusterId, st.Header.MemberId, l.id, m.id)
	}
	if st.Leader == 0 {
		return 0, fmt.Errorf("member %s sees no raft leader yet", m.name)
	}
	if l.memberByID(st.Leader) == nil {
		return 0, fmt.Errorf("member %s reports leader %x, which is not a member of this cluster", m.name, st.Leader)
	}
	return st.Leader, nil
}

// checkMembership checks that etcd's member list is exactly this cluster's members.
func (l *local) checkMembership(ctx context.Context) error {
	resp, err := l.client.MemberList(ctx)
	if err != nil {
		return fmt.Errorf("member list: %w", err)
	}
	var got, want []string
	for _, pm := range resp.Members {
		got = append(got, fmt.Sprintf("%s=%x", pm.Name, pm.ID))
	}
	for _, m := range l.members() {
		want = append(want, fmt.Sprintf("%s=%x", m.name, m.id))
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		return fmt.Errorf("member list is %v, want %v (not all members have published their names yet?)", got, want)
	}
	return nil
}

// waitServing polls until m answers a linearizable read.
func (l *local) waitServing(ctx context.Context, m *Member) error {
	var last error
	return poll(ctx, 5*time.Millisecond, func() (bool, error) {
		if done, err := m.exited(); done {
			return false, l.exitError(m, err)
		}
		qctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		_, last = l.memberStatus(qctx, m)
		if last == nil && !m.learner.Load() { // a learner serves no linearizable read
			_, last = m.client.Get(qctx, "etcdtest-readiness")
		}
		return last == nil, nil
	}, func() error { return l.timeoutError(ctx, "member "+m.name+" to serve again", last) })
}

func (l *local) exitError(m *Member, err error) error {
	logs := m.Logs()
	how := fmt.Sprint(err)
	if err == nil {
		how = "with status 0 before serving: is the binary etcd, and does it serve when run with these flags?"
	}
	cause := fmt.Errorf("etcdtest: member %s exited during boot (%s); fix the cause in its log below (bad Config.ExtraFlags? unusable Config.DataDir?)", m.name, how)
	if strings.Contains(logs, "address already in use") {
		cause = fmt.Errorf("etcdtest: member %s: a port reserved for it was taken by another program: %w", m.name, errPortTaken)
	}
	return fmt.Errorf("%w\n--- last lines of %s's log ---\n%s", cause, m.name, proc.Tail(logs, 3000))
}

func (l *local) timeoutError(ctx context.Context, what string, last error) error {
	var b strings.Builder
	fmt.Fprintf(&b, "etcdtest: timed out after %v waiting for %s (%v); last check: %v.\n"+
		"Raise Config.StartTimeout or the context's deadline if the machine is slow; otherwise the members' logs below say what is wrong.",
		l.cfg.StartTimeout, what, context.Cause(ctx), last)
	for _, m := range l.members() {
		fmt.Fprintf(&b, "\n--- last lines of %s's log (%s) ---\n%s", m.name, m.State(), proc.Tail(m.Logs(), 1500))
	}
	return errors.New(b.String())
}

// teardown kills every member, closes clients, links and proxies, and
// removes the data. It copes with a cluster built only in part.
func (l *local) teardown(ctx context.Context) error {
	var errs []error
	l.faults.Clear() // faults heal with the cluster
	l.linkMu.Lock()
	links := l.links
	l.links = nil
	l.linkMu.Unlock()
	for _, k := range links {
		k.Close()
	}
	errs = append(errs, l.killAll()...)
	var wg sync.WaitGroup
	closing := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	if l.client != nil {
		closing(func() { l.client.Close() })
	}
	for _, m := range l.members() {
		if m.client != nil {
			closing(func() { m.client.Close() })
		}
		if m.proxy != nil {
			closing(m.proxy.Close)
		}
	}
	wg.Wait()
	if l.dir != "" {
		if err := host.RemoveClusterDir(l.dir, l.owner); err != nil {
			errs = append(errs, fmt.Errorf("etcdtest: remove cluster data %s: %w", l.dir, err))
		}
	}
	if l.walDir != "" {
		if err := host.RemoveClusterDir(l.walDir, l.walLock); err != nil {
			errs = append(errs, fmt.Errorf("etcdtest: remove cluster WAL %s: %w", l.walDir, err))
		}
	}
	if l.ports != nil {
		l.ports.Release()
	}
	for _, p := range l.extraPorts {
		p.Release()
	}
	return errors.Join(errs...)
}

// killAll kills every member's process and waits for each to be reaped.
func (l *local) killAll() []error {
	var errs []error
	for _, m := range l.members() {
		m.signal(syscall.SIGKILL, Stopped)
	}
	for _, m := range l.members() {
		m.mu.Lock()
		p := m.proc
		m.mu.Unlock()
		if p == nil {
			continue
		}
		select {
		case <-p.done:
		case <-time.After(signalBound):
			errs = append(errs, fmt.Errorf("etcdtest: member %s (pid %d) survived SIGKILL for %v", m.name, p.cmd.Process.Pid, signalBound))
		}
	}
	return errs
}

// leader returns the raft leader as the running members report it.
func (l *local) leader(ctx context.Context) (*Member, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var (
		mu       sync.Mutex
		best     *Member
		bestTerm uint64
		errs     []error
	)
	var running []*Member
	for _, m := range l.members() {
		if m.State() == Running {
			running = append(running, m)
		}
	}
	clients.EachAtOnce(ctx, running, time.Second, func(ctx context.Context, _ int, m *Member) {
		st, err := m.status(ctx)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", m.name, err))
			return
		}
		// A member that is gone cannot lead, even if the others have not noticed yet.
		ld := l.memberByID(st.Leader)
		switch {
		case ld == nil:
			errs = append(errs, fmt.Errorf("%s sees no leader", m.name))
		case !ld.alive():
			errs = append(errs, fmt.Errorf("%s still follows %s, which is %s", m.name, ld.name, ld.State()))
		case st.RaftTerm >= bestTerm:
			best, bestTerm = ld, st.RaftTerm
		}
	})
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
