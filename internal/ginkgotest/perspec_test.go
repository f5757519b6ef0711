//go:build unix

package ginkgotest_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

var _ = Describe("etcdtest.PerSpec under ginkgo -p", func() {
	It("gives every spec a fresh cluster, mostly a warm spare, and no two processes share one", func(ctx SpecContext) {
		c := startChild("perspec", newDataDir(), []string{"--procs=2"}, perSpec)
		Eventually(c.session).WithTimeout(eventually).Should(gexec.Exit(0))
		recs := c.records("perspec-*")
		Expect(recs).To(HaveLen(6))

		ids, dirs, pids := map[string]int{}, map[string]int{}, map[int]int{}
		spares, procs := 0, map[int]bool{}
		for _, r := range recs {
			procs[r.Process] = true
			Expect(ids).NotTo(HaveKey(r.ClusterID), "two specs got cluster %s", r.ClusterID)
			Expect(dirs).NotTo(HaveKey(r.Dir), "two specs got the data dir %s", r.Dir)
			ids[r.ClusterID], dirs[r.Dir] = r.Process, r.Process
			for _, p := range r.Members {
				Expect(pids).NotTo(HaveKey(p), "two specs got member pid %d", p)
				pids[p] = r.Process
			}
			if r.Spare {
				spares++
			}
		}
		Expect(procs).To(HaveLen(2), "both processes ran specs")
		// Every process boots its first spec's cluster itself; every later
		// spec takes the spare that booted while the spec before it ran.
		Expect(spares).To(Equal(len(recs)-len(procs)), "specs served by a warm spare")
		Eventually(c.leftovers).WithArguments(recs).WithTimeout(shortly).Should(BeEmpty(),
			"the last spares' data is gone once the processes have exited")
		Eventually(c.members).WithTimeout(shortly).Should(BeEmpty())
	})
})
