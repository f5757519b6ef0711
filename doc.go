// Package etcdtestcluster is the root of etcd-test-cluster, a Go toolkit for
// testing code that depends on etcd, in the style of Ginkgo v2 and Gomega.
//
// The root package holds no code of its own; it is the home of the
// project's end-to-end suite (suite_test.go). The toolkit lives in:
//
//   - etcdtest: boots real etcd clusters as OS processes on loopback (3
//     members by default), isolated per Ginkgo parallel process, torn down
//     without leaving anything behind; injects faults (kill, pause, restart a
//     member, partition the network between members).
//   - matchers: Gomega matchers that poll real state, such as BeElected and
//     HaveValue.
//   - locker: election nodes, many competing on one etcd path, exactly one
//     elected, its value distributed to all.
//   - examples: small runnable suites to copy from.
//
// A suite needs one line to get a cluster per parallel process:
//
//	var cluster = etcdtest.BeforeSuite(etcdtest.Config{})
//
//	var _ = It("reads through member 1 what member 0 wrote", func(ctx SpecContext) {
//		Expect(cluster.Member(0).Key("/test").Put(ctx, "hello world")).To(Succeed())
//		v, _, err := cluster.Member(1).Key("/test").Get(ctx)
//		Expect(err).NotTo(HaveOccurred())
//		Expect(v).To(Equal("hello world"))
//	})
//
// Run the examples with the Ginkgo CLI pinned in go.mod:
//
//	go tool ginkgo -p -r ./examples
package etcdtestcluster
