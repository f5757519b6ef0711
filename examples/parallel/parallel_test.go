// Package parallel_test shows what `ginkgo -p` does with etcdtest: every
// parallel process boots a cluster of its own, on its own ports, so specs in
// different processes never see each other's keys. Run it with
//
//	go tool ginkgo -p -v ./examples/parallel
package parallel_test

import (
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

func TestParallel(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "parallel")
}

// One cluster per parallel process; the etcd binary is provisioned once.
var cluster = etcdtest.BeforeSuite(etcdtest.Config{})

var _ = Describe("Each parallel process", func() {
	// Several specs, so that every process gets some.
	for spec := 1; spec <= 4; spec++ {
		It(fmt.Sprintf("has a cluster of its own (spec %d)", spec), func(ctx SpecContext) {
			me := fmt.Sprintf("process %d", GinkgoParallelProcess())
			GinkgoWriter.Printf("%s: cluster %x, endpoints %v\n", me, cluster.ID(), cluster.Endpoints())

			// Every process writes the same key name; each reads back its own value,
			// as no other process shares its cluster.
			Expect(cluster.Key("/owner").Put(ctx, me)).To(Succeed())
			value, _, err := cluster.Key("/owner").Get(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(value).To(Equal(me))
		}, SpecTimeout(10*time.Second))
	}
})

// Every process says which cluster it had, also one that ran no spec (a
// process may finish booting after the others took every spec).
var _ = AfterSuite(func() {
	suite, _ := GinkgoConfiguration()
	GinkgoWriter.Printf("process %d of %d had cluster %x, endpoints %v\n",
		GinkgoParallelProcess(), suite.ParallelTotal, cluster.ID(), cluster.Endpoints())
})
