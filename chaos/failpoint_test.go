package chaos_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

var _ = Describe("locker under failpoint crashes", Ordered, func() {
	BeforeAll(func(ctx SpecContext) { // the first failpoint build takes a minute or two: not the spec's time
		if os.Getenv(etcdtest.EnvBinary) == "" && !cluster.External() {
			_, err := etcdtest.Provision(ctx, etcdtest.Config{Failpoints: true, Version: cluster.Version()})
			Expect(err).NotTo(HaveOccurred())
		}
	}, NodeTimeout(10*time.Minute))

	It("keeps at most one node elected while members crash at etcd's own failpoints, and recovers after each", func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster)
		cfg := etcdtest.Config{Failpoints: true}
		if os.Getenv(etcdtest.EnvBinary) == "" {
			cfg.Version = cluster.Version()
		}
		fc, err := etcdtest.Start(ctx, cfg)
		if err != nil && os.Getenv(etcdtest.EnvBinary) != "" {
			Skip("failpoint chaos needs a failpoint build; $ETCDTEST_BINARY has none: " + err.Error())
		}
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(fc.Stop(ctx)).To(Succeed()) }, NodeTimeout(20*time.Second))

		seed := time.Now().UnixNano()
		if s := os.Getenv("CHAOS_SEED"); s != "" {
			seed, err = strconv.ParseInt(s, 10, 64)
			Expect(err).NotTo(HaveOccurred(), "CHAOS_SEED must be a number")
		}
		replay := fmt.Sprintf("CHAOS_SEED=%d go test ./chaos -run TestChaos -v -args -ginkgo.focus='failpoint crashes'", seed)
		AddReportEntry("replay", replay)

		var nodes []*locker.Node
		for i := range 3 {
			n, err := locker.New(fc.Member(i).Client(), "/chaos/fp-election", locker.WithID(fmt.Sprintf("n%d", i+1)), locker.WithTTL(time.Second))
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(n.Close)
			nodes = append(nodes, n)
		}
		rec := chaos.Record(chaos.Electors(nodes...)...)
		DeferCleanup(func() { AddReportEntry("election timeline", rec.Stop().String()) })
		for i, n := range nodes {
			Expect(n.Write(ctx, fmt.Sprintf("v%d-0", i+1))).To(Succeed())
		}
		Eventually(nodes).WithTimeout(5 * time.Second).Should(matchers.HaveExactlyOneElected())

		tl, err := chaos.Run(ctx, fc, chaos.Options{
			Seed: seed, Duration: 15 * time.Second, Faults: []chaos.Fault{chaos.Failpoint},
			Targets:   []chaos.Target{chaos.Random, chaos.RaftLeader, chaos.Minority},
			Recording: rec, Check: exactlyOne(nodes), Log: GinkgoWriter,
		})
		AddReportEntry("fault steps", tl.String())
		Expect(err).NotTo(HaveOccurred(), "replay: %s", replay)
		Expect(tl.Steps).NotTo(BeEmpty())
		for _, s := range tl.Steps {
			Expect(s.Fault).To(Equal(chaos.Failpoint))
			Expect(strings.Join(s.Members, " ")).To(MatchRegexp(`\w+=(panic|sleep\(\d+\))`), "the step names its failpoint")
		}
		crashed := 0
		for _, m := range fc.Members() {
			crashed += strings.Count(m.Logs(), "exited by itself")
			Expect(m.State()).To(Equal(etcdtest.Running), "Run restarted every member that crashed")
		}
		Expect(crashed).To(BeNumerically(">=", 1), "some failpoint crashed a member")

		rep := rec.Stop()
		GinkgoWriter.Printf("chaos: %d failpoint steps, %d crashes; %s\n", len(tl.Steps), crashed, rep.Summary())
		Expect(rep).To(matchers.BeSafe(), "replay: %s", replay)
	}, SpecTimeout(3*time.Minute))
})
