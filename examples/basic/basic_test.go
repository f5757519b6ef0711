// Package basic_test is the smallest etcdtest suite: one 3-member etcd
// cluster per Ginkgo process, a value written through one member and read
// through another. Copy it into your module and run it with
//
//	go tool ginkgo -p ./...
package basic_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

func TestBasic(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "basic")
}

// cluster boots before the first spec and stops after the last one, also
// when the suite fails or is interrupted. It takes the suite's BeforeSuite.
var cluster = etcdtest.BeforeSuite(etcdtest.Config{})

// Specs share the cluster: start each from an empty keyspace.
var _ = BeforeEach(func(ctx SpecContext) {
	Expect(cluster.Reset(ctx)).To(Succeed())
}, NodeTimeout(10*time.Second))

var _ = Describe("A 3-member etcd cluster", func() {
	It("reads through member 1 the value written through member 0", func(ctx SpecContext) {
		Expect(cluster.Member(0).Key("/test").Put(ctx, "hello world")).To(Succeed())

		// A linearizable read through member 1 (Key.Get reads it by hand).
		Expect(cluster.Member(1).Key("/test")).To(matchers.HaveValue("hello world"))
	}, SpecTimeout(10*time.Second))

	It("keeps serving while a member is down", func(ctx SpecContext) {
		// Kill returns once the other two agree on a raft leader (a new one
		// if member 2 led), so a write through either succeeds at once.
		Expect(cluster.Member(2).Kill()).To(Succeed())
		DeferCleanup(cluster.Member(2).Restart) // specs share the cluster: leave it whole, also on failure

		Expect(cluster.Member(0).Key("/test").Put(ctx, "still here")).To(Succeed())
		// WithTimeout always goes with WithContext: under a SpecContext,
		// Gomega otherwise polls until the spec's own timeout.
		Eventually(cluster.Member(1).Key("/test")).WithContext(ctx).WithTimeout(5 * time.Second).
			Should(matchers.HaveValue("still here"))
	}, SpecTimeout(30*time.Second))
})
