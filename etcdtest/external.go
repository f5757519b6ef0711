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

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/host"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/keyspace"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proc"
	"go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"

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

// external is a Cluster that uses an existing etcd cluster named by
// $ETCDTEST_ENDPOINTS. Each works under its own key prefix through
// namespaced clients, so suites running at once never see each other's
// keys and never touch the cluster's root.
type external struct {
	common
	keys  string // base + run + "/": where its keys live
	raw   []*clientv3.Client
	claim *keyspace.Claim // the prefix, held under a kept-alive lease
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
	hostname, _ := os.Hostname()
	run := fmt.Sprintf("%s-%d-%s", hostname, os.Getpid(), host.RandomHex(4))
	c := &external{common: common{cfg: cfg, stopped: make(chan struct{})}, keys: base + run + "/"}
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
	if c.claim, err = keyspace.Take(ctx, raw, base, run); err != nil {
		return nil, fmt.Errorf("etcdtest: external cluster %v: claim the key prefix %q: %w; %s (with auth, the user needs read-write permission on %q)",
			eps, c.keys, err, fix, base)
	}
	c.client = keyspace.Namespaced(raw, c.keys)

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
			raws[i], m.client = mraw, keyspace.Namespaced(mraw, e.keys)
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

func (e *external) closeAll() {
	e.claim.Stop()
	for _, r := range e.raw {
		r.Close()
	}
}

// teardown removes this process's keys (its prefix and its record) and
// releases the connections.
func (e *external) teardown(ctx context.Context) error {
	defer e.closeAll()
	if len(e.raw) == 0 {
		return nil
	}
	if err := e.claim.Release(ctx, e.raw[0]); err != nil {
		return fmt.Errorf("etcdtest: remove this suite's keys under %q from the external cluster: %w", e.keys, err)
	}
	return nil
}

func hasEndpoints() bool { return os.Getenv(EnvEndpoints) != "" }
