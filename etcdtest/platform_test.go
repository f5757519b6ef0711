package etcdtest_test

import (
	"context"
	"os"
	"runtime"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proc"
	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

// Windows's decision, taken on this OS: Start must refuse a local cluster
// before it touches anything, and an external cluster must serve a whole
// suite, whose faults return ErrExternal.
var _ = Describe("Platforms: Start as on Windows", func() {
	BeforeEach(func() { DeferCleanup(etcdtest.PretendOS("windows")) })

	It("refuses a local cluster at once, saying what local clusters need and naming ETCDTEST_ENDPOINTS; nothing is made", func(ctx SpecContext) {
		GinkgoT().Setenv(etcdtest.EnvEndpoints, "")
		data := GinkgoT().TempDir()
		// A binary that does not exist and a bad size: the platform comes
		// first, before the config is checked or etcd looked for.
		_, err := etcdtest.Start(ctx, etcdtest.Config{Size: -1, Binary: "/nonexistent/etcd", DataDir: data})
		Expect(err).To(MatchError(proc.ErrPlatform))
		for _, want := range []string{"local clusters need a Unix-like OS", "process groups", "SIGSTOP", "set ETCDTEST_ENDPOINTS"} {
			Expect(err.Error()).To(ContainSubstring(want))
		}
		Expect(os.ReadDir(data)).To(BeEmpty(), "no cluster directory")
	}, SpecTimeout(10*time.Second))

	It("is Windows's refusal only: as on macOS, the same Start gets as far as looking for etcd", func(ctx SpecContext) {
		DeferCleanup(etcdtest.PretendOS("darwin"))
		GinkgoT().Setenv(etcdtest.EnvEndpoints, "")
		_, err := etcdtest.Start(ctx, etcdtest.Config{Binary: "/nonexistent/etcd", DataDir: GinkgoT().TempDir()})
		Expect(err).To(HaveOccurred())
		Expect(err).NotTo(MatchError(proc.ErrPlatform))
		Expect(err.Error()).To(ContainSubstring("/nonexistent/etcd"))
	}, SpecTimeout(10*time.Second))

	It("runs against an external cluster: keys, an election, its recorder, a history; faults return ErrExternal", func(ctx SpecContext) {
		if os.Getenv(etcdtest.EnvEndpoints) != "" {
			Skip("this suite itself runs against an external cluster")
		}
		restore := etcdtest.PretendOS(runtime.GOOS)
		c := start(etcdtest.Config{}) // the "external" cluster, booted on this OS
		restore()
		GinkgoT().Setenv(etcdtest.EnvEndpoints, strings.Join(c.Endpoints(), ","))
		ext, err := etcdtest.Start(ctx, etcdtest.Config{})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(ext.Stop, context.Background())
		Expect(ext.External()).To(BeTrue())

		Expect(ext.Key("/k").Put(ctx, "v")).To(Succeed())
		Eventually(ext.Key("/k")).Should(matchers.HaveValue("v"))

		h := chaos.NewHistory()
		cli := h.Client(ext.Client())
		_, err = cli.Put(ctx, "/h", "1")
		Expect(err).NotTo(HaveOccurred())
		_, err = cli.Get(ctx, "/h")
		Expect(err).NotTo(HaveOccurred())
		h.Stop()
		Expect(h).To(matchers.BeLinearizable())

		node, err := locker.New(ext.Client(), "/election")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(node.Close)
		rec := chaos.Record(node)
		Expect(node.Write(ctx, "me")).To(Succeed())
		Eventually(node).Should(matchers.BeElected())
		Eventually(node).Should(matchers.HaveValue("me"))
		Expect(rec.Stop()).To(matchers.BeSafe())

		m := ext.Member(0)
		Expect(m.Kill()).To(MatchError(etcdtest.ErrExternal))
		Expect(m.Pause()).To(MatchError(etcdtest.ErrExternal))
		Expect(m.Restart(ctx)).To(MatchError(etcdtest.ErrExternal))
		Expect(ext.Isolate(0)).To(MatchError(etcdtest.ErrExternal))
		_, err = chaos.Run(ctx, ext, chaos.Options{Seed: 1, Duration: time.Second})
		Expect(err).To(MatchError(etcdtest.ErrExternal))
	}, SpecTimeout(time.Minute))
})
