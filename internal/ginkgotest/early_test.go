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
		Expect(flat(string(c.output.Contents()))).To(ContainSubstring(
			"etcdtest: the cluster from etcdtest.BeforeSuite is used before the suite's BeforeSuite booted it"))
		Expect(c.leftovers(nil)).To(BeEmpty(), "no cluster was booted")
	},
	Entry("fails the run with a clear message: in a container's body, while the spec tree is built", "early-tree"),
	Entry("fails the run with a clear message: in a package-level var, while the package initialises", "early-var"),
)

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*m")

// flat returns s without terminal colours (Ginkgo colours some messages
// even under --no-color), its lines re-joined as Ginkgo wraps long ones.
func flat(s string) string {
	return strings.Join(strings.Fields(ansiEscape.ReplaceAllString(s, "")), " ")
}
