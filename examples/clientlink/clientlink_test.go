// Package clientlink_test cuts one client off from a healthy etcd cluster
// with a ClientLink, the fault that makes a lease expire: the client's
// keep-alives vanish, etcd revokes the lease after its TTL, and every key
// attached to it goes. Run it with
//
//	go tool ginkgo -p ./examples/clientlink
package clientlink_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

func TestClientLink(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "clientlink")
}

var cluster = etcdtest.BeforeSuite(etcdtest.Config{})

var _ = Describe("A client cut off by its ClientLink", func() {
	var link *etcdtest.ClientLink

	BeforeEach(func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster) // a link is a proxy in this process, in front of members it booted
		Expect(cluster.Reset(ctx)).To(Succeed())
		var err error
		link, err = cluster.NewClientLink() // a client of all members, through proxies the test can cut
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(link.Close)
	}, NodeTimeout(10*time.Second))

	It("loses its lease: etcd revokes it once the TTL runs out", func(ctx SpecContext) {
		const ttl = 1 // seconds, etcd's least for this cluster's timing
		lease, err := link.Client().Grant(ctx, ttl)
		Expect(err).NotTo(HaveOccurred())
		keepAlive, err := link.Client().KeepAlive(ctx, lease.ID) // refreshes the lease every TTL/3
		Expect(err).NotTo(HaveOccurred())
		_, err = link.Client().Put(ctx, "/owner", "me", clientv3.WithLease(lease.ID))
		Expect(err).NotTo(HaveOccurred())

		// The shared client (cluster.Key) reads etcd's answer; it is not cut.
		owner := cluster.Key("/owner")
		// WithTimeout always goes with WithContext: under a SpecContext,
		// Gomega otherwise polls until the spec's own timeout.
		Consistently(owner).WithContext(ctx).WithTimeout(2*ttl*time.Second).
			Should(matchers.HaveValue("me"), "keep-alives hold the lease past its TTL")

		link.Cut() // a pulled cable: the client's keep-alives vanish
		DeferCleanup(link.Heal)

		// etcd expires the lease after its TTL (and its expiry check, every 0.5 s).
		Eventually(owner).WithContext(ctx).WithTimeout(5 * time.Second).Should(matchers.BeMissing())
		ttlNow, err := cluster.Client().TimeToLive(ctx, lease.ID)
		Expect(err).NotTo(HaveOccurred())
		Expect(ttlNow.TTL).To(BeEquivalentTo(-1), "etcd no longer knows the lease")

		// Reconnected, the client learns the lease is gone: KeepAlive's channel closes.
		link.Heal()
		Eventually(keepAlive).WithContext(ctx).WithTimeout(5 * time.Second).Should(BeClosed())
	}, SpecTimeout(30*time.Second))

	It("fails the cut-off client's calls while the cluster serves everyone else", func(ctx SpecContext) {
		link.Cut()
		DeferCleanup(link.Heal)

		// A cut is silent: only the caller's deadline ends the call.
		call, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		_, err := link.Client().Put(call, "/k", "from the cut-off client")
		Expect(err).To(MatchError(context.DeadlineExceeded))

		Expect(cluster.Key("/k").Put(ctx, "from the shared client")).To(Succeed())
		Eventually(cluster.Member(2).Key("/k")).WithContext(ctx).WithTimeout(5 * time.Second).
			Should(matchers.HaveValue("from the shared client"))
	}, SpecTimeout(20*time.Second))
})
