package matchers_test

import (
	"context"
	"fmt"
	"time"

	"github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

// Two nodes compete on one path; the matchers wait for the outcome. In a
// Ginkgo suite the Gomega here is the dot-imported one:
// Eventually(a).Should(matchers.BeElected()).
func Example() {
	ctx := context.Background()
	cluster, err := etcdtest.Start(ctx, etcdtest.Config{Size: 1})
	if err != nil {
		panic(err)
	}
	defer cluster.Stop(ctx)
	g := gomega.NewGomega(func(message string, _ ...int) { panic(message) })

	a, _ := locker.New(cluster.Client(), "/example", locker.WithID("a"), locker.WithTTL(time.Second))
	b, _ := locker.New(cluster.Client(), "/example", locker.WithID("b"), locker.WithTTL(time.Second))
	defer b.Close()
	g.Expect(a.Write(ctx, "10.0.0.1:80")).To(gomega.Succeed())
	g.Expect(b.Write(ctx, "10.0.0.2:80")).To(gomega.Succeed())

	g.Eventually(a).Should(matchers.BeElected())
	g.Eventually(b).Should(matchers.HaveLeader("a"))
	g.Eventually(b).Should(matchers.HaveValue("10.0.0.1:80"))
	g.Expect([]*locker.Node{a, b}).To(matchers.HaveExactlyOneElected())
	fmt.Println("a is elected, b follows it")

	a.Close()
	g.Eventually(b).Should(matchers.BeElected())
	g.Eventually(cluster.Key("/example/a")).Should(matchers.BeMissing())
	g.Eventually(cluster.Key("/example/b")).Should(matchers.HaveValue("10.0.0.2:80"))
	g.Expect(cluster).To(matchers.BeHealthy())
	fmt.Println("b took over")
	// Output:
	// a is elected, b follows it
	// b took over
}
