//go:build unix

package ginkgotest_test

import (
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

var _ = DescribeTable("The etcdtest.BeforeSuite handle used before the suite runs",
	func(ctx SpecContext, mode string) {
		c := startChild(mode, newDataDir(), nil)
		Eventually(c.session).WithTimeout(eventually).Should(gexec.Exit())
		Expect(c.session.ExitCode()).NotTo(Equal(0))
		// The message names the user's `var cluster = etcdtest.BeforeSuite(...)` line.
		Expect(flat(string(c.output.Contents()))).To(MatchRegexp(
			`etcdtest: the cluster from etcdtest\.BeforeSuite \(\S+/testdata/child/child_test\.go:\d+\) is used before the suite's BeforeSuite booted it`))
		Expect(c.leftovers(nil)).To(BeEmpty(), "no cluster was booted")
	},
	Entry("fails the run with a clear message: in a container's body, while the spec tree is built", "early-tree"),
	Entry("fails the run with a clear message: in a package-level var, while the package initialises", "early-var"),
)

var _ = Describe("A second BeforeSuite beside etcdtest.BeforeSuite", func() {
	It("fails the run with Ginkgo's error naming the user's line and saying to call Launch inside their own BeforeSuite", func(ctx SpecContext) {
		c := startChild("second-beforesuite", newDataDir(), nil)
		Eventually(c.session).WithTimeout(eventually).Should(gexec.Exit())
		Expect(c.session.ExitCode()).NotTo(Equal(0))
		out := flat(string(c.output.Contents()))
		Expect(out).To(ContainSubstring("It looks like you are trying to add a [BeforeSuite] node"))
		Expect(out).To(MatchRegexp(`you already have a \[SynchronizedBeforeSuite\] node defined at: \S+/testdata/child/child_test\.go:\d+ \(etcdtest\.BeforeSuite takes the suite's one BeforeSuite: for a BeforeSuite of your own, call etcdtest\.Launch inside your own BeforeSuite instead\)`))
		Expect(out).NotTo(MatchRegexp(`defined at: \S+/etcdtest/ginkgo\.go`), "not the toolkit's own line")
		Expect(c.leftovers(nil)).To(BeEmpty(), "no cluster was booted")
	})
})

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*m")

// flat returns s without terminal colours (Ginkgo colours some messages
// even under --no-color), its lines re-joined as Ginkgo wraps long ones.
func flat(s string) string {
	return strings.Join(strings.Fields(ansiEscape.ReplaceAllString(s, "")), " ")
}
