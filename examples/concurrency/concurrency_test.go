package concurrency_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

// Both libraries run side by side: three locker nodes and three
// concurrency.Election campaigners, node i and campaigner i on the same
// client link to member i, under one seeded fault schedule. Each library has
// its own recording, so an overlap is always within one library.
var _ = Describe("concurrency.Election and locker under one chaos schedule", func() {
	It("shows which of the two ever had two leaders", SpecTimeout(2*time.Minute), func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster)
		seed := time.Now().UnixNano()
		if s := os.Getenv("CHAOS_SEED"); s != "" {
			seed, _ = strconv.ParseInt(s, 10, 64)
		}

		var (
			links       []*etcdtest.ClientLink
			nodes       []*locker.Node
			campaigners []*campaigner
		)
		cctx, stopCampaigns := context.WithCancel(context.Background())
		DeferCleanup(stopCampaigns)
		for i := range 3 {
			link, err := cluster.NewClientLink(i)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(link.Close)
			n, err := locker.New(link.Client(), "/example/locker", locker.WithID(fmt.Sprintf("locker%d", i+1)), locker.WithTTL(time.Second))
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(n.Close)
			Expect(n.Write(ctx, "v")).To(Succeed())
			c := &campaigner{id: fmt.Sprintf("election%d", i+1)}
			go c.run(cctx, link.Client(), "/example/election")
			links, nodes, campaigners = append(links, link), append(nodes, n), append(campaigners, c)
		}
		lockerRec := chaos.Record(chaos.Electors(nodes...)...)
		electionRec := chaos.Record(chaos.Electors(campaigners...)...)
		Eventually(nodes).WithTimeout(5 * time.Second).Should(matchers.HaveExactlyOneElected())
		Eventually(campaigners).WithTimeout(5 * time.Second).Should(matchers.HaveExactlyOneElected())

		tl, err := chaos.Run(ctx, cluster, chaos.Options{
			Seed: seed, Duration: 15 * time.Second, Links: links,
			Faults:    []chaos.Fault{chaos.Kill, chaos.Pause, chaos.Isolate, chaos.CutClient},
			Recording: lockerRec,
		})
		Expect(err).NotTo(HaveOccurred())
		for _, s := range tl.Steps {
			electionRec.Note(s)
		}
		lockerRep, electionRep := lockerRec.Stop(), electionRec.Stop()
		AddReportEntry("faults", tl.String())
		AddReportEntry("locker", lockerRep.String())
		AddReportEntry("concurrency.Election", electionRep.String())
		fmt.Fprintf(GinkgoWriter, "replay: CHAOS_SEED=%d go test ./examples/concurrency -v\nlocker: %s\nconcurrency.Election: %s\n", seed, lockerRep.Summary(), electionRep.Summary())
		if !electionRep.Safe() {
			path, err := electionRep.SaveSVG("")
			Expect(err).NotTo(HaveOccurred())
			AddReportEntry("concurrency.Election picture", path)
		}

		// What we hold locker to. concurrency.Election is only reported:
		// whatever it does under these faults is the finding.
		Expect(lockerRep).To(matchers.BeSafe(), "replay: CHAOS_SEED=%d", seed)
		Expect(electionRep.Samples).To(BeNumerically(">", 1000), "the recorder watched concurrency.Election too")
	})
})
