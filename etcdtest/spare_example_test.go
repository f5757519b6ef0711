package etcdtest_test

import (
	"context"
	"fmt"
	"log"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// With Spare, a cluster of the same config boots in the background while
// the first one is used, and the next Start takes it ready: every cluster
// is fresh — its own ID, its revisions counted from its boot — for the cost of a readiness
// check instead of a boot.
func ExampleConfig_spare() {
	ctx := context.Background()
	defer etcdtest.StopSpares() // a plain program's end; Ginkgo helpers need no call
	cfg := etcdtest.Config{Spare: true}
	for i := range 3 {
		cluster, err := etcdtest.Start(ctx, cfg) // from the second on: the spare
		if err != nil {
			log.Fatal(err)
		}
		if err := cluster.Key("/k").Put(ctx, "v"); err != nil {
			log.Fatal(err)
		}
		resp, err := cluster.Client().Get(ctx, "/k")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("cluster %d: revision %d\n", i+1, resp.Header.Revision)
		cluster.Stop(ctx)
	}
	// Output:
	// cluster 1: revision 2
	// cluster 2: revision 2
	// cluster 3: revision 2
}

// A suite whose specs each need a cluster of their own — to assert
// revisions, leases, auth or membership — declares it once. This example
// is compiled, not run: PerSpec belongs in a suite's spec tree.
func ExamplePerSpec() {
	cluster := etcdtest.PerSpec(etcdtest.Config{}) // at the top level of a suite file: var cluster = ...

	It("starts from revision 1", func(ctx SpecContext) {
		Expect(cluster.Key("/k").Put(ctx, "v")).To(Succeed())
		resp, err := cluster.Client().Get(ctx, "/k")
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.Header.Revision).To(BeEquivalentTo(2)) // the boot is revision 1
	})
}
