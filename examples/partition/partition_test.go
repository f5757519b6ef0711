// Package partition_test cuts the raft leader off from its peers with
// Cluster.Isolate: the others elect a new leader and keep serving, the
// isolated member serves no linearizable read, and after Heal it catches up.
// Run it with
//
//	go tool ginkgo -p ./examples/partition
package partition_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

func TestPartition(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "partition")
}

var cluster = etcdtest.BeforeSuite(etcdtest.Config{})

var _ = Describe("Isolating the raft leader", func() {
	var leader, majority *etcdtest.Member

	BeforeEach(func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster) // partitions cut the peer proxies of a cluster etcdtest booted
		Expect(cluster.Reset(ctx)).To(Succeed())
		var err error
		leader, err = cluster.Leader(ctx)
		Expect(err).NotTo(HaveOccurred())
		// Isolate returns once the other two agree on a new raft leader, so
		// the next line can write through one of them at its first attempt.
		// A member's Index is the int the fault methods take.
		Expect(cluster.Isolate(leader.Index())).To(Succeed())
		DeferCleanup(cluster.Heal) // returns once all three agree on one leader again
		majority = cluster.Member((leader.Index() + 1) % len(cluster.Members()))
	}, NodeTimeout(20*time.Second))

	It("has the other members elect a new leader and keep serving", func(ctx SpecContext) {
		// WithTimeout always goes with WithContext: under a SpecContext,
		// Gomega otherwise polls until the spec's own timeout.
		Eventually(cluster).WithContext(ctx).WithTimeout(5 * time.Second).
			Should(matchers.HaveRaftLeader(Not(Equal(leader.Name()))))
		Expect(majority.Key("/k").Put(ctx, "written by the majority")).To(Succeed())

		// The isolated member has no quorum: a linearizable read through it fails.
		read, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, _, err := leader.Key("/k").Get(read)
		Expect(err).To(HaveOccurred())
	}, SpecTimeout(20*time.Second))

	It("catches the isolated member up once healed", func(ctx SpecContext) {
		Expect(majority.Key("/k").Put(ctx, "written during the partition")).To(Succeed())

		Expect(cluster.Heal()).To(Succeed()) // also deferred: Heal is idempotent
		Eventually(leader.Key("/k")).WithContext(ctx).WithTimeout(5 * time.Second).
			Should(matchers.HaveValue("written during the partition"))
	}, SpecTimeout(20*time.Second))
})
