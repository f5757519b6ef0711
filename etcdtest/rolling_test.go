package etcdtest_test

import (
	"context"
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

// clusterVersion polls c's cluster version.
func clusterVersion(c *etcdtest.Cluster) func(context.Context) string {
	return func(ctx context.Context) string {
		v, _ := c.ClusterVersion(ctx)
		return v
	}
}

var _ = Describe("Rolling version changes", func() {
	It("refuses a malformed release and a path that is not etcd before touching the member", func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster)
		m := cluster.Member(0)
		pid := m.Pid()
		Expect(m.RestartOn(ctx, "3.x")).To(MatchError(ContainSubstring(`RestartOn(node1, "3.x")`)))
		Expect(m.RestartOn(ctx, "/nonexistent/etcd")).To(MatchError(ContainSubstring("/nonexistent/etcd")))
		Expect(m.Pid()).To(Equal(pid))
		v, err := cluster.ClusterVersion(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(v).NotTo(BeEmpty())
	})

	It("refuses Config.MemberVersions longer than the cluster or naming a malformed release", func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster)
		_, err := etcdtest.Start(ctx, etcdtest.Config{Binary: binary, Size: 1, MemberVersions: []string{"", ""}})
		Expect(err).To(MatchError(ContainSubstring("Config.MemberVersions names 2 members, but Config.Size is 1")))
		_, err = etcdtest.Start(ctx, etcdtest.Config{Binary: binary, MemberVersions: []string{"3.x"}})
		Expect(err).To(MatchError(ContainSubstring("Config.MemberVersions[0]")))
	})

	// The rest needs managed builds of two releases: it runs with the
	// version matrix (ETCDTEST_MATRIX, see versions_test.go).
	Context("between releases", func() {
		const from, to = "v3.6.16", etcdtest.DefaultVersion
		BeforeEach(func() {
			if os.Getenv(envMatrix) == "" || os.Getenv(etcdtest.EnvBinary) != "" {
				Skip("needs managed builds of " + from + " and " + to + ": set " + envMatrix + "=1 and leave " + etcdtest.EnvBinary + " unset")
			}
		})
		// startRelease boots a cluster of managed builds, not the suite's binary.
		startRelease := func(cfg etcdtest.Config) *etcdtest.Cluster {
			GinkgoHelper()
			c, err := etcdtest.Start(context.Background(), cfg)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func(ctx SpecContext) { Expect(c.Stop(ctx)).To(Succeed()) }, NodeTimeout(20*time.Second))
			return c
		}

		It("upgrades a 3-member cluster one member at a time under a running election: never two leaders, and the cluster version moves with the last member", func(ctx SpecContext) {
			c := startRelease(etcdtest.Config{Version: from})
			Expect(clusterVersion(c)(ctx)).To(Equal("3.6.0"))
			var nodes []*locker.Node
			for _, id := range []string{"a", "b", "c"} {
				cli, err := clientv3.New(c.ClientConfig())
				Expect(err).NotTo(HaveOccurred())
				DeferCleanup(cli.Close)
				n, err := locker.New(cli, "/rolling", locker.WithID(id), locker.WithTTL(2*time.Second))
				Expect(err).NotTo(HaveOccurred())
				DeferCleanup(n.Close)
				Expect(n.Write(ctx, id)).To(Succeed())
				nodes = append(nodes, n)
			}
			Eventually(func() []string { return chaos.Elected(nodes...) }).WithContext(ctx).WithTimeout(5 * time.Second).Should(HaveLen(1))
			rec := chaos.Record(chaos.Electors(nodes...)...)
			DeferCleanup(func() { rec.Stop() })

			for i, m := range c.Members() {
				Expect(m.RestartOn(ctx, to)).To(Succeed())
				Expect(m.Version()).To(Equal(to))
				if i < 2 {
					Expect(clusterVersion(c)(ctx)).To(Equal("3.6.0"), "the cluster runs at its lowest member's release")
				}
			}
			Eventually(clusterVersion(c)).WithContext(ctx).WithTimeout(10 * time.Second).Should(Equal("3.7.0"))
			Eventually(func() []string { return chaos.Elected(nodes...) }).WithContext(ctx).WithTimeout(10 * time.Second).Should(HaveLen(1))
			Expect(rec.Samples()).To(BeNumerically(">", 100))
			Expect(rec.Stop()).To(matchers.BeSafe())
		})

		It("boots a mixed-version cluster from Config.MemberVersions; it runs at the lowest release", func(ctx SpecContext) {
			c := startRelease(etcdtest.Config{Version: to, MemberVersions: []string{from}})
			Expect(c.Member(0).Version()).To(Equal(from))
			Expect(c.Member(1).Version()).To(Equal(to))
			Expect(clusterVersion(c)(ctx)).To(Equal("3.6.0"))
			Expect(c.Member(0).RestartOn(ctx, to)).To(Succeed())
			Eventually(clusterVersion(c)).WithContext(ctx).WithTimeout(10 * time.Second).Should(Equal("3.7.0"))
		})

		It("refuses a release that skips one, and one below the cluster version, before touching the member", func(ctx SpecContext) {
			c := startRelease(etcdtest.Config{Version: "v3.5.35", Size: 1})
			m := c.Member(0)
			pid := m.Pid()
			Expect(m.RestartOn(ctx, to)).To(MatchError(ContainSubstring("etcd changes one minor release at a time, and v3.5.35 → v3.7.3 is 2 minor releases up")))
			Expect(m.Pid()).To(Equal(pid))

			d := startRelease(etcdtest.Config{Version: to, Size: 1})
			Expect(d.Member(0).RestartOn(ctx, from)).To(MatchError(ContainSubstring("the cluster runs at version 3.7.0, and etcd refuses a member below it")))
		})
	})
})
