package etcdtest

import (
	"context"
	"fmt"
	"os"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/namespace"
)

// external is the state of a Cluster that uses an existing etcd cluster
// named by $ETCDTEST_ENDPOINTS. Each Cluster works under its own key
// prefix through namespaced clients, so suites running at once never see
// each other's keys and never touch the cluster's root.
type external struct {
	prefix string
	raw    []*clientv3.Client // un-namespaced clients, to clean the prefix up
}

// Prefix returns the key prefix every client of this cluster works under:
// "" for a cluster the toolkit booted, "etcdtest/<host>-<pid>-<random>/"
// against an external cluster.
func (c *Cluster) Prefix() string {
	if c.ext == nil {
		return ""
	}
	return c.ext.prefix
}

// External reports whether the cluster is an existing one ($ETCDTEST_ENDPOINTS).
func (c *Cluster) External() bool { return c.ext != nil }

func (c *Cluster) checkLocal(op string) error {
	c.mustBeStarted()
	if c.ext != nil {
		return fmt.Errorf("%s: %w", op, ErrExternal)
	}
	return nil
}

func (c *Cluster) startExternal(ctx context.Context, cfg Config, endpoints string) error {
	var eps []string
	for _, e := range strings.Split(endpoints, ",") {
		if e = strings.TrimSpace(e); e != "" {
			eps = append(eps, e)
		}
	}
	if len(eps) == 0 {
		return fmt.Errorf("etcdtest: $%s=%q names no endpoint: set it to comma-separated client URLs, or unset it to boot a cluster", EnvEndpoints, endpoints)
	}
	host, _ := os.Hostname()
	c.cfg, c.stopped = cfg, make(chan struct{})
	c.ext = &external{prefix: fmt.Sprintf("etcdtest/%s-%d-%s/", host, os.Getpid(), randomHex(4))}
	fail := func(err error) error {
		c.ext.closeAll()
		c.ext, c.members, c.client = nil, nil, nil
		return err
	}
	raw, err := newClient(eps)
	if err != nil {
		return fail(err)
	}
	c.ext.raw = append(c.ext.raw, raw)
	c.client = c.ext.namespaced(raw)
	ctx, cancel := context.WithTimeout(ctx, 10*1e9)
	defer cancel()
	list, err := raw.MemberList(ctx)
	if err != nil {
		return fail(fmt.Errorf("etcdtest: external cluster %v ($%s) does not answer: %w; check the URLs or unset %s", eps, EnvEndpoints, err, EnvEndpoints))
	}
	c.id = list.Header.ClusterId
	for i, pm := range list.Members {
		m := &Member{c: c, index: i, name: pm.Name, id: pm.ID, state: "external", log: newLogBuffer(1024, nil, "")}
		if len(pm.PeerURLs) > 0 {
			m.peerURL = pm.PeerURLs[0]
		}
		if len(pm.ClientURLs) > 0 {
			m.clientURL = pm.ClientURLs[0]
			mraw, err := newClient(pm.ClientURLs)
			if err != nil {
				return fail(err)
			}
			c.ext.raw = append(c.ext.raw, mraw)
			m.client = c.ext.namespaced(mraw)
		}
		c.members = append(c.members, m)
	}
	c.started.Store(true)
	return nil
}

// namespaced returns a client that sees only keys under the prefix. It
// shares raw's connection: closing raw closes it.
func (e *external) namespaced(raw *clientv3.Client) *clientv3.Client {
	ns := *raw
	ns.KV = namespace.NewKV(raw.KV, e.prefix)
	ns.Watcher = namespace.NewWatcher(raw.Watcher, e.prefix)
	ns.Lease = namespace.NewLease(raw.Lease, e.prefix)
	return &ns
}

func (e *external) closeAll() {
	for _, r := range e.raw {
		r.Close()
	}
}

func (e *external) stop(ctx context.Context) error {
	defer e.closeAll()
	if len(e.raw) == 0 {
		return nil
	}
	if _, err := e.raw[0].Delete(ctx, e.prefix, clientv3.WithPrefix()); err != nil {
		return fmt.Errorf("etcdtest: remove this suite's keys under %q from the external cluster: %w", e.prefix, err)
	}
	return nil
}

func hasEndpoints() bool { return os.Getenv(EnvEndpoints) != "" }
