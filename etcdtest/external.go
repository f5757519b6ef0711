package etcdtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proc"
	"go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/namespace"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/provision"
)

// Environment variables that configure the use of an existing cluster
// ($ETCDTEST_ENDPOINTS). They are read by Start when it runs.
const (
	// EnvCACert names a PEM file of the CA that signed the cluster's
	// server certificates (etcdctl --cacert). Unset with https endpoints
	// means the system's roots.
	EnvCACert = "ETCDTEST_CACERT"
	// EnvCert names the PEM client certificate (etcdctl --cert), for
	// clusters that require one; EnvKey names its private key.
	EnvCert = "ETCDTEST_CERT"
	// EnvKey names the PEM private key of EnvCert (etcdctl --key).
	EnvKey = "ETCDTEST_KEY"
	// EnvUser is the user name to log in with when the cluster has auth on.
	EnvUser = "ETCDTEST_USER"
	// EnvPassword is EnvUser's password.
	EnvPassword = "ETCDTEST_PASSWORD"
	// EnvPrefix is the key prefix under which every process makes its own
	// prefix; "" means "etcdtest/". Set it to a part of the key space your
	// user may write (with auth and role-based permissions).
	EnvPrefix = "ETCDTEST_PREFIX"
)

// DefaultPrefix is the key prefix under which each process works against an
// external cluster when $ETCDTEST_PREFIX is unset.
const DefaultPrefix = "etcdtest/"

// liveTTL is the lease TTL, in seconds, of the key that marks a process's
// prefix as in use; a prefix whose owner died is swept by the next Start
// once it expired.
const liveTTL = 60

// external is a Cluster that uses an existing etcd cluster named by
// $ETCDTEST_ENDPOINTS. Each works under its own key prefix through
// namespaced clients, so suites running at once never see each other's
// keys and never touch the cluster's root.
type external struct {
	common
	base   string // $ETCDTEST_PREFIX
	run    string // this Cluster's name under base
	keys   string // base + run + "/": where its keys live
	raw    []*clientv3.Client
	lease  clientv3.LeaseID
	cancel context.CancelFunc // ends the lease's keep-alive
}

func (e *external) local(op string) (*local, error) {
	return nil, fmt.Errorf("%s: %w", op, ErrExternal)
}

func (e *external) prefix() string { return e.keys }

func (e *external) diagnostics() string {
	return fmt.Sprintf("etcdtest: external cluster %x, key prefix %q\n", e.id, e.keys)
}

func startExternal(ctx context.Context, cfg Config, endpoints string) (_ *external, err error) {
	var eps []string
	for _, e := range strings.Split(endpoints, ",") {
		if e = strings.TrimSpace(e); e != "" {
			eps = append(eps, e)
		}
	}
	if len(eps) == 0 {
		return nil, fmt.Errorf("etcdtest: $%s=%q names no endpoint: set it to comma-separated client URLs, or unset it to boot a cluster", EnvEndpoints, endpoints)
	}
	base := os.Getenv(EnvPrefix)
	if base == "" {
		base = DefaultPrefix
	}
	if cfg.Snapshot != "" {
		return nil, fmt.Errorf("etcdtest: Config.Snapshot %q cannot be restored into an external cluster ($%s is set): the toolkit does not own its data; unset %s to boot a cluster from the snapshot", cfg.Snapshot, EnvEndpoints, EnvEndpoints)
	}
	if cfg.CallTimeout < 0 {
		return nil, fmt.Errorf("etcdtest: Config.CallTimeout is %v: it must not be negative (0 means the default, %v)", cfg.CallTimeout, defaultCallTimeout(0))
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = defaultCallTimeout(0) // the external cluster's own election timeout is unknown
	}
	// StartTimeout bounds the first answer here and, as for a booted
	// cluster, a snapshot whose context has no deadline.
	if cfg.StartTimeout < 0 {
		return nil, fmt.Errorf("etcdtest: Config.StartTimeout is %v: it must not be negative (0 means the default, %v)", cfg.StartTimeout, defaultStartTimeout)
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = defaultStartTimeout
	}
	host, _ := os.Hostname()
	run := fmt.Sprintf("%s-%d-%s", host, os.Getpid(), randomHex(4))
	c := &external{common: common{cfg: cfg, stopped: make(chan struct{})}, base: base, run: run, keys: base + run + "/"}
	defer func() {
		if err != nil {
			c.closeAll()
		}
	}()
	if c.sec, err = externalSecurity(eps); err != nil {
		return nil, err
	}
	fix := fmt.Sprintf("check $%s (%s), the TLS settings ($%s, $%s, $%s) and credentials ($%s, $%s), or unset %s to boot a cluster",
		EnvEndpoints, endpoints, EnvCACert, EnvCert, EnvKey, EnvUser, EnvPassword, EnvEndpoints)
	ctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	raw, err := c.newClient(eps)
	if err != nil {
		return nil, fmt.Errorf("%w; %s", err, fix)
	}
	c.raw = append(c.raw, raw)
	list, err := raw.MemberList(ctx)
	if err != nil {
		return nil, fmt.Errorf("etcdtest: external cluster %v does not answer: %w; %s", eps, err, fix)
	}
	c.id = list.Header.ClusterId
	if st, err := raw.Status(ctx, eps[0]); err == nil {
		c.bin.Version, _ = provision.ParseVersion(st.Version)
	}
	if err := c.claim(ctx, raw); err != nil {
		return nil, fmt.Errorf("etcdtest: external cluster %v: claim the key prefix %q: %w; %s (with auth, the user needs read-write permission on %q)",
			eps, c.keys, err, fix, base)
	}
	c.client = c.namespaced(raw)

	if err := c.addMembers(list.Members, fix); err != nil {
		return nil, err
	}
	return c, nil
}

// addMembers makes a Member, with its own client, of each member etcd lists.
func (e *external) addMembers(list []*etcdserverpb.Member, fix string) error {
	// etcd lists members by ID; by name reads like a booted cluster's.
	sort.SliceStable(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	members := make([]*Member, len(list))
	errs := make([]error, len(list))
	raws := make([]*clientv3.Client, len(list))
	var wg sync.WaitGroup
	for i, pm := range list {
		name := pm.Name
		if name == "" {
			name = strconv.FormatUint(pm.ID, 16) // a member that has not started yet
		}
		m := &Member{c: &e.common, index: i, name: name, id: pm.ID, state: External, log: proc.NewLogBuffer(1024, nil, "")}
		members[i] = m
		if len(pm.PeerURLs) > 0 {
			m.peerURL = pm.PeerURLs[0]
		}
		if len(pm.ClientURLs) == 0 {
			continue
		}
		m.clientURL = pm.ClientURLs[0]
		wg.Add(1)
		go func() {
			defer wg.Done()
			mraw, err := e.newClient(pm.ClientURLs)
			if err != nil {
				errs[i] = fmt.Errorf("etcdtest: external cluster: member %s (%v): %w; %s", name, pm.ClientURLs, err, fix)
				return
			}
			raws[i], m.client = mraw, e.namespaced(mraw)
		}()
	}
	e.list.Store(&members)
	wg.Wait()
	for _, r := range raws {
		if r != nil {
			e.raw = append(e.raw, r)
		}
	}
	return errors.Join(errs...)
}

// claim marks this process's prefix as in use (a key under a kept-alive
// lease) and sweeps the prefixes of runs that died without Stop: every run
// records itself under base+".runs/", and one whose ".live/" key is gone
// (its lease expired) is abandoned.
func (e *external) claim(ctx context.Context, raw *clientv3.Client) error {
	lease, err := raw.Grant(ctx, liveTTL)
	if err != nil {
		return err
	}
	e.lease = lease.ID
	kctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	ka, err := raw.KeepAlive(kctx, lease.ID)
	if err != nil {
		return err
	}
	go func() {
		for range ka { // drain: the client keeps the lease alive while this runs
		}
	}()
	// The live key comes first: a run with a .runs key always has a live
	// one, unless it died.
	if _, err := raw.Put(ctx, e.base+".live/"+e.run, "", clientv3.WithLease(lease.ID)); err != nil {
		return err
	}
	if _, err := raw.Put(ctx, e.base+".runs/"+e.run, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return err
	}
	resp, err := raw.Txn(ctx).Then(
		clientv3.OpGet(e.base+".runs/", clientv3.WithPrefix(), clientv3.WithKeysOnly()),
		clientv3.OpGet(e.base+".live/", clientv3.WithPrefix(), clientv3.WithKeysOnly()),
	).Commit()
	if err != nil {
		return nil // sweeping is best effort
	}
	live := map[string]bool{}
	for _, kv := range resp.Responses[1].GetResponseRange().Kvs {
		live[strings.TrimPrefix(string(kv.Key), e.base+".live/")] = true
	}
	for _, kv := range resp.Responses[0].GetResponseRange().Kvs {
		run := strings.TrimPrefix(string(kv.Key), e.base+".runs/")
		if !live[run] && run != "" && !strings.Contains(run, "/") {
			raw.Txn(ctx).Then(
				clientv3.OpDelete(e.base+run+"/", clientv3.WithPrefix()),
				clientv3.OpDelete(e.base+".runs/"+run),
			).Commit()
		}
	}
	return nil
}

// namespaced returns a client that sees only keys under the prefix. It
// shares raw's connection: closing raw closes it.
func (e *external) namespaced(raw *clientv3.Client) *clientv3.Client {
	ns := *raw
	ns.KV = namespace.NewKV(raw.KV, e.keys)
	ns.Watcher = namespace.NewWatcher(raw.Watcher, e.keys)
	ns.Lease = namespace.NewLease(raw.Lease, e.keys)
	return &ns
}

func (e *external) closeAll() {
	if e.cancel != nil {
		e.cancel()
	}
	for _, r := range e.raw {
		r.Close()
	}
}

// stop removes this process's keys (its prefix and its records) and
// releases the connections.
func (e *external) teardown(ctx context.Context) error {
	defer e.closeAll()
	if len(e.raw) == 0 {
		return nil
	}
	raw := e.raw[0]
	_, err := raw.Txn(ctx).Then(
		clientv3.OpDelete(e.keys, clientv3.WithPrefix()),
		clientv3.OpDelete(e.base+".runs/"+e.run),
	).Commit()
	if e.lease != 0 {
		raw.Revoke(ctx, e.lease)
	}
	if err != nil {
		return fmt.Errorf("etcdtest: remove this suite's keys under %q from the external cluster: %w", e.keys, err)
	}
	return nil
}

func hasEndpoints() bool { return os.Getenv(EnvEndpoints) != "" }
