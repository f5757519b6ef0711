package etcdtest

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/callsite"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/netfault"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proxy"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ClientLink is one client's own route to the cluster: a proxy in front of
// each member that the test can cut while the cluster itself stays healthy.
// Use it to make an etcd client — and whatever runs on it, such as an
// election node — lose the cluster:
//
//	link, err := cluster.NewClientLink()
//	node, err := locker.New(link.Client(), "/election")
//	...
//	link.Cut()     // the node's keep-alives vanish; its lease expires
//	link.Heal()    // it reconnects
//
// Cut is a black hole, like a pulled cable: connections stay open and bytes
// vanish, so the client learns nothing until its own timeouts fire.
type ClientLink struct {
	proxies []*proxy.Proxy
	scheme  string
	client  *clientv3.Client
	pol     netfault.LinkPolicy
	once    sync.Once
	made    callsite.Record // the Cut and Delay calls in force
}

// NewClientLink returns a link to the given members (all when none are
// given) and a client that uses it. Cluster.Stop closes it. The client is
// configured like Member.Client: the cluster's TLS (which passes through
// the link end to end) and credentials, and Config.CallTimeout for calls
// without a deadline.
func (c *Cluster) NewClientLink(members ...int) (*ClientLink, error) {
	l, err := c.local("NewClientLink")
	if err != nil {
		return nil, err
	}
	if len(members) == 0 {
		for i := range l.members() {
			members = append(members, i)
		}
	}
	if err := l.checkIndexes("NewClientLink", members...); err != nil {
		return nil, err
	}
	k := &ClientLink{scheme: l.sec.scheme()}
	for _, i := range members {
		p, err := proxy.New(fmt.Sprintf("127.0.0.1:%d", l.members()[i].clientPort), &k.pol)
		if err != nil {
			k.Close()
			return nil, fmt.Errorf("etcdtest: NewClientLink: %w", err)
		}
		k.proxies = append(k.proxies, p)
	}
	// The proxies forward raw TCP, so TLS runs end to end between the
	// client and the member, and the member's certificate (for 127.0.0.1)
	// matches the proxy's address too.
	cli, err := l.newClient(k.Endpoints())
	if err != nil {
		k.Close()
		return nil, err
	}
	k.client = cli
	l.linkMu.Lock()
	l.links = append(l.links, k)
	l.linkMu.Unlock()
	return k, nil
}

// Client returns the client that reaches the cluster through this link.
// Close (or Cluster.Stop) closes it.
func (l *ClientLink) Client() *clientv3.Client { return l.client }

// Endpoints returns the link's URLs, one per member it leads to.
func (l *ClientLink) Endpoints() []string {
	eps := make([]string, len(l.proxies))
	for i, p := range l.proxies {
		eps[i] = l.scheme + "://" + p.Addr()
	}
	return eps
}

// Cut makes the link a black hole: every byte either way is dropped, and
// new connections are accepted and then ignored.
func (l *ClientLink) Cut() { l.pol.Cut(); l.made.Note(true) }

// Heal lifts every fault on the link, as Cluster.Heal does for the
// cluster's: it ends a Cut and removes a Delay. Connections that lived
// through a cut are closed (bytes were lost mid-stream), so the client
// reconnects afresh at once.
func (l *ClientLink) Heal() {
	if l.Delay(0); l.pol.Heal() {
		for _, p := range l.proxies {
			p.DropAll()
		}
	}
}

// NetworkFaults describes the faults in force on the link — "cut",
// "delay 200ms", or both joined by "; " — or returns "" when it forwards
// everything at full speed.
func (l *ClientLink) NetworkFaults() string {
	var parts []string
	if l.pol.IsCut() {
		parts = append(parts, "cut")
	}
	if d := l.pol.Latency(); d > 0 {
		parts = append(parts, "delay "+d.String())
	}
	return strings.Join(parts, "; ")
}

// Delay adds d of latency to every chunk of data forwarded either way; 0 removes it.
func (l *ClientLink) Delay(d time.Duration) {
	l.pol.SetLatency(d) // chunks waiting now wait for the new latency
	l.made.Note(d > 0 || l.pol.IsCut())
}

// Close closes the link's client and proxies. It is idempotent.
func (l *ClientLink) Close() error {
	l.once.Do(func() {
		if l.client != nil {
			l.client.Close()
		}
		for _, p := range l.proxies {
			p.Close()
		}
	})
	return nil
}
