package locker_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
)

func TestLocker(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "locker")
}

// One 3-member cluster per Ginkgo process; every spec uses its own path.
var cluster = etcdtest.BeforeSuite(etcdtest.Config{})

// ttl is the lease TTL of the nodes in specs that wait for an expiry.
const ttl = time.Second

var _ = AfterEach(func(ctx SpecContext) {
	// Specs that inject faults heal them themselves; make sure of it, so
	// that one failure does not cascade.
	for _, m := range cluster.Members() {
		if m.State() == etcdtest.Paused {
			Expect(m.Resume()).To(Succeed())
		}
		if !m.Running() {
			Expect(m.Restart(ctx)).To(Succeed())
		}
	}
})

var pathSeq atomic.Int64

// newPath is a fresh election path for one spec.
func newPath() string {
	return fmt.Sprintf("/locker-test/%d-%d", GinkgoParallelProcess(), pathSeq.Add(1))
}

// newClient is a client of its own, on the given endpoints (all members by
// default), closed after the spec.
func newClient(endpoints ...string) *clientv3.Client {
	GinkgoHelper()
	if len(endpoints) == 0 {
		endpoints = cluster.Endpoints()
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(c.Close)
	return c
}

// newNode creates a node that is closed after the spec, and records what
// it is told.
func newNode(client *clientv3.Client, path string, opts ...locker.Option) *recorder {
	GinkgoHelper()
	n, err := locker.New(client, path, opts...)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(n.Close)
	r := &recorder{Node: n}
	n.OnChange(func(value, leaderID string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.log = append(r.log, entry{kind: "change", leaderID: leaderID, value: value})
		r.changes = append(r.changes, change{leaderID, value})
	})
	n.OnSelect(func(ctx context.Context, value string) {
		l, _ := n.Leader()
		r.mu.Lock()
		defer r.mu.Unlock()
		r.log = append(r.log, entry{kind: "select", leaderID: n.ID(), value: value, rev: l.Revision, at: time.Now()})
		r.selects = append(r.selects, l.Revision)
		r.ctxs = append(r.ctxs, ctx)
		for _, fn := range r.hooks {
			fn(ctx, value)
		}
	})
	return r
}

type change struct{ LeaderID, Value string }

type entry struct {
	kind            string
	leaderID, value string
	rev             int64
	at              time.Time
}

// recorder is a node plus everything its callbacks were told.
type recorder struct {
	*locker.Node
	mu      sync.Mutex
	log     []entry
	changes []change
	selects []int64
	ctxs    []context.Context
	hooks   []func(context.Context, string)
}

func (r *recorder) Changes() []change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]change(nil), r.changes...)
}

func (r *recorder) Selects() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int64(nil), r.selects...)
}

func (r *recorder) Log() []entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]entry(nil), r.log...)
}

func (r *recorder) LastSelectAt() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.log) - 1; i >= 0; i-- {
		if r.log[i].kind == "select" {
			return r.log[i].at
		}
	}
	return time.Time{}
}

func (r *recorder) onSelect(fn func(context.Context, string)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hooks = append(r.hooks, fn)
}

func write(n *recorder, value string) {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	Expect(n.Write(ctx, value)).To(Succeed())
}

// electedOf returns the nodes that believe they are elected.
func electedOf(nodes ...*recorder) []string { return chaos.Elected(nodes...) }

// waitElected waits until exactly one of nodes is elected and returns it.
func waitElected(timeout time.Duration, nodes ...*recorder) *recorder {
	GinkgoHelper()
	var leader *recorder
	Eventually(func() []string {
		ids := electedOf(nodes...)
		leader = nil
		for _, n := range nodes {
			if len(ids) == 1 && n.ID() == ids[0] {
				leader = n
			}
		}
		return ids
	}).WithTimeout(timeout).WithPolling(2 * time.Millisecond).Should(HaveLen(1))
	return leader
}

// truth is the election as etcd has it: the first candidate key under path.
func truth(path string) change {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	keys := locker.NewLayout(path)
	resp, err := cluster.Client().Get(ctx, keys.Prefix(), clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
	Expect(err).NotTo(HaveOccurred())
	for _, kv := range resp.Kvs {
		if id, ok := keys.Candidate(string(kv.Key)); ok {
			return change{id, string(kv.Value)}
		}
	}
	return change{}
}

// leaseOfKey is the lease a key is attached to in etcd, 0 if it does not exist.
func leaseOfKey(key string) clientv3.LeaseID {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := cluster.Client().Get(ctx, key)
	Expect(err).NotTo(HaveOccurred())
	if len(resp.Kvs) == 0 {
		return 0
	}
	return clientv3.LeaseID(resp.Kvs[0].Lease)
}

// startSampler records every node's belief (and fencing token) about every
// millisecond until the spec ends (or Stop): chaos.Record, the recorder users
// get, at a slower tick because several specs' nodes share the machine.
func startSampler(nodes ...*recorder) *chaos.Recording {
	s := chaos.RecordWith(chaos.RecordOptions{Interval: time.Millisecond}, chaos.Electors(nodes...)...)
	DeferCleanup(s.Stop)
	return s
}

func memberOf(i int) *etcdtest.Member { return cluster.Member(i) }
