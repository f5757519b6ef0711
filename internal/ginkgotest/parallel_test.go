//go:build unix

package ginkgotest_test

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

var _ = Describe("etcdtest.BeforeSuite under ginkgo -p", func() {
	It("gives each process a cluster of its own, also with two suites running at once", func(ctx SpecContext) {
		// Two CLI runs at once, 2 processes each: 4 clusters booting together,
		// like ginkgo -p -r over two packages.
		a := startChild("distinct", newDataDir(), []string{"--procs=2"})
		b := startChild("distinct", newDataDir(), []string{"--procs=2"})
		Eventually(a.session).WithTimeout(eventually).Should(gexec.Exit(0))
		Eventually(b.session).WithTimeout(eventually).Should(gexec.Exit(0))

		var all []record
		for _, c := range []*child{a, b} {
			recs := c.records("distinct-*")
			Expect(recs).To(HaveLen(2))
			for i, r := range recs {
				Expect(r.Process).To(Equal(i + 1))
				// Each process wrote its name to /owner, waited until the other had
				// written too, and read /owner back: a shared cluster shows the other name.
				Expect(r.Owner).To(Equal(fmt.Sprintf("process %d", r.Process)), "process %d read another process's write", r.Process)
			}
			all = append(all, recs...)
		}

		ids, dirs, urls, pids := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[int]bool{}
		for _, r := range all {
			Expect(r.Endpoints).To(HaveLen(3))
			ids[r.ClusterID], dirs[r.Dir] = true, true
			for _, u := range append(r.Endpoints, r.PeerURLs...) {
				Expect(urls).NotTo(HaveKey(u), "two clusters share %s", u)
				urls[u] = true
			}
			for _, p := range r.Members {
				pids[p] = true
			}
		}
		Expect(ids).To(HaveLen(4), "cluster IDs")
		Expect(dirs).To(HaveLen(4), "data directories")
		Expect(pids).To(HaveLen(12), "member processes")
		Expect(a.leftovers(a.records("distinct-*"))).To(BeEmpty())
		Expect(b.leftovers(b.records("distinct-*"))).To(BeEmpty())
	})
})
