package concurrency_test

import (
	"context"
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

// Both libraries run side by side: three locker nodes and three
// concurrency.Election campaigners, node i and campaigner i on the same
// client link to member i, under one seeded fault schedule. Each library has
// its own recording, so an overlap is always within one library.
//
// CHAOS_SEED, CHAOS_DURATION and CHAOS_FAULTS set the schedule as in the
// chaos suite (default here: 15 s of kills, pauses, isolations and client
// cut-offs), so the two can run the same one — the chaos suite's is every
// fault:
//
//	CHAOS_SEED=7 CHAOS_DURATION=3m CHAOS_FAULTS="kill,pause,restart,isolate,partition,one-way cut,latency,loss,cut client,move leader" \
//		go test ./examples/concurrency -timeout 0 -v
var _ = Describe("concurrency.Election and locker under one chaos schedule", func() {
	duration := 15 * time.Second
	if d, err := time.ParseDuration(os.Getenv("CHAOS_DURATION")); err == nil {
		duration = d
	}
	It("shows which of the two ever had two leaders", SpecTimeout(duration+time.Minute), func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster)
		seed := time.Now().UnixNano()
		if s := os.Getenv("CHAOS_SEED"); s != "" {
			seed, _ = strconv.ParseInt(s, 10, 64)
		}
		faults := []chaos.Fault{chaos.Kill, chaos.Pause, chaos.Isolate, chaos.CutClient}
		if env := os.Getenv("CHAOS_FAULTS"); env != "" {
			var err error
			faults, err = chaos.ParseFaults(env)
			Expect(err).NotTo(HaveOccurred(), "CHAOS_FAULTS")
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
			Seed: seed, Duration: duration, Links: links, Faults: faults,
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
		replay := fmt.Sprintf("CHAOS_SEED=%d CHAOS_DURATION=%v CHAOS_FAULTS=%q go test ./examples/concurrency -timeout 0 -v", seed, duration, joinFaults(faults))
		AddReportEntry("replay", replay)
		AddReportEntry("summary", "locker: "+lockerRep.Summary()+"\nconcurrency.Election: "+electionRep.Summary())
		fmt.Fprintf(GinkgoWriter, "replay: %s\nlocker: %s\nconcurrency.Election: %s\n", replay, lockerRep.Summary(), electionRep.Summary())
		if !electionRep.Safe() {
			path, err := electionRep.SaveSVG("")
			Expect(err).NotTo(HaveOccurred())
			AddReportEntry("concurrency.Election picture", path)
		}

		// What we hold locker to. concurrency.Election is only reported:
		// whatever it does under these faults is the finding.
		Expect(lockerRep).To(matchers.BeSafe(), "replay: %s", replay)
		Expect(electionRep.Samples).To(BeNumerically(">", 1000), "the recorder watched concurrency.Election too")
	})
})

func joinFaults(faults []chaos.Fault) string {
	names := make([]string, len(faults))
	for i, f := range faults {
		names[i] = string(f)
	}
	return strings.Join(names, ",")
}
