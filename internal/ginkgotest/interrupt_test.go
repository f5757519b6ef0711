//go:build unix

package ginkgotest_test

import (
	"slices"
	"strconv"
	"syscall"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/etcd-test-cluster/etcd-test-cluster/internal/procfs"
)

var _ = Describe("An interrupted suite", func() {
	// hold starts a child whose specs each boot nothing more but block until
	// interrupted, holding the process's BeforeSuite cluster, and waits
	// until every process has recorded its cluster.
	hold := func(procs int, flags []string, env ...string) (*child, []record) {
		GinkgoHelper()
		flags = append(flags, "--procs="+strconv.Itoa(procs))
		c := startChild("hold", newDataDir(), flags, env...)
		Eventually(func() []string {
			if c.session.ExitCode() >= 0 {
				StopTrying("the child exited before every process recorded its cluster (booting slower than --timeout?)").Now()
			}
			return c.files("hold-*")
		}).WithTimeout(eventually).Should(HaveLen(procs), "every process boots its cluster and blocks")
		recs := c.records("hold-*")
		for _, r := range recs {
			Expect(r.Members).To(HaveLen(3))
			for _, pid := range r.Members {
				Expect(procfs.Alive(pid)).To(BeTrue())
			}
		}
		if slices.Contains(env, perSpec) {
			// Each process also boots a spare next to its spec's cluster.
			Eventually(c.members).WithTimeout(eventually).Should(HaveLen(6*procs), "every process's cluster and spare run")
		}
		return c, recs
	}

	DescribeTable("stops every member and removes the data: one ^C",
		func(ctx SpecContext, procs int, env ...string) {
			c, recs := hold(procs, nil, env...)
			c.interrupt()
			Eventually(c.session).WithTimeout(eventually).Should(gexec.Exit())
			Expect(c.session.ExitCode()).NotTo(Equal(0))

			Expect(c.survivors(recs)).To(BeEmpty(), "cleanup stopped the members")
			Expect(c.leftovers(recs)).To(BeEmpty(), "cleanup removed the data")
		},
		Entry("one process", 1),
		Entry("ginkgo -p, 2 processes", 2),
		Entry("ginkgo -p, 2 processes, per-spec clusters with spares", 2, perSpec),
	)

	DescribeTable("stops every member and removes the data: --timeout",
		func(ctx SpecContext, procs int, env ...string) {
			// Long enough to boot on a busy machine; the specs then block until it ends.
			c, recs := hold(procs, []string{"--timeout=6s"}, env...)
			Eventually(c.session).WithTimeout(eventually).Should(gexec.Exit())
			Expect(c.session.ExitCode()).NotTo(Equal(0))
			Expect(string(c.output.Contents())).To(ContainSubstring("timeout"))

			Expect(c.survivors(recs)).To(BeEmpty(), "cleanup stopped the members")
			Expect(c.leftovers(recs)).To(BeEmpty(), "cleanup removed the data")
		},
		Entry("one process", 1),
		Entry("ginkgo -p, 2 processes", 2),
		Entry("ginkgo -p, 2 processes, per-spec clusters with spares", 2, perSpec),
	)

	DescribeTable("leaves nothing behind after two ^C, which skip cleanup nodes",
		func(ctx SpecContext, procs int, env ...string) {
			// Each spec has a cleanup that hangs, so the second ^C comes while
			// Ginkgo is cleaning up, and skips the rest: the cluster's Stop too.
			c, recs := hold(procs, nil, append(env, "GINKGOTEST_HANG_CLEANUP=1")...)
			c.interrupt()
			Eventually(c.files).WithArguments("cleanup-*").WithTimeout(eventually).Should(HaveLen(procs),
				"the first ^C ends the specs and starts cleanup")
			c.interrupt()
			Eventually(c.session).WithTimeout(eventually).Should(gexec.Exit())
			Expect(c.session.ExitCode()).NotTo(Equal(0))

			// Nothing stopped the members: they die with their test process
			// (parent-death signal), which the kernel delivers right after it exits.
			Eventually(c.survivors).WithArguments(recs).WithTimeout(shortly).Should(BeEmpty())

			// Ginkgo still runs reporting nodes after the second ^C, and
			// etcdtest stops live clusters in one: the data is gone too.
			Expect(c.leftovers(recs)).To(BeEmpty(), "the interrupted run removed its data")
		},
		Entry("one process", 1),
		Entry("ginkgo -p, 2 processes", 2),
		Entry("ginkgo -p, 2 processes, per-spec clusters with spares", 2, perSpec),
	)

	It("leaves nothing behind when a test process with a spare is SIGKILLed", func(ctx SpecContext) {
		c, recs := hold(1, nil, perSpec)
		Expect(syscall.Kill(recs[0].Pid, syscall.SIGKILL)).To(Succeed())
		Eventually(c.session).WithTimeout(eventually).Should(gexec.Exit())
		// Nothing ran cleanup: the members die by the parent-death signal,
		// and the reaper started with the first spare removes the data.
		Eventually(c.survivors).WithArguments(recs).WithTimeout(shortly).Should(BeEmpty())
		Eventually(c.leftovers).WithArguments(recs).WithTimeout(shortly).Should(BeEmpty())
	})
})

// perSpec makes the child's specs use etcdtest.PerSpec, which keeps a spare.
const perSpec = "GINKGOTEST_PERSPEC=1"
