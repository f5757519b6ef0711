//go:build unix

package ginkgotest_test

import (
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

// etcdLogLine matches a line of etcd's own (JSON) log.
var etcdLogLine = regexp.MustCompile(`(?m)^.*\{"level":"[a-z]+","ts":.*$`)

var _ = Describe("A failed spec's report", func() {
	It("shows each member's name and state, the raft leader and each log tail, once; no etcd output elsewhere", func(ctx SpecContext) {
		c := startChild("diagnostics", newDataDir(), []string{"--procs=2"})
		Eventually(c.session).WithTimeout(eventually).Should(gexec.Exit(1))
		out := string(c.output.Contents())

		Expect(out).To(ContainSubstring("a deliberate failure"))
		Expect(strings.Count(out, "etcdtest: cluster ")).To(Equal(1), "the diagnostics appear once")
		// Right after the kill the live members may not have elected anew:
		// then "none (node1 still follows node2, which is killed ...)" is the truth.
		Expect(out).To(MatchRegexp(`raft leader: (node[123]|none \(.*\))\n`))
		Expect(out).To(MatchRegexp(`node1: running, client http://127\.0\.0\.1:\d+, peer http://127\.0\.0\.1:\d+\n`))
		Expect(out).To(MatchRegexp(`node2: killed, client `))
		Expect(out).To(MatchRegexp(`node3: running, client `))

		// The log tails: one block per member, each with etcd's log lines, and
		// not a single etcd log line anywhere else.
		var outside strings.Builder
		rest := out
		for _, name := range []string{"node1", "node2", "node3"} {
			header := "--- last lines of " + name + "'s log ---"
			Expect(strings.Count(out, header)).To(Equal(1), header)
			before, after, _ := strings.Cut(rest, header)
			outside.WriteString(before)
			rest = after
			end := strings.Index(rest, "--- last lines of ")
			if end < 0 {
				end = strings.Index(rest, "<< Timeline")
			}
			Expect(end).To(BeNumerically(">", 0))
			Expect(etcdLogLine.FindAllString(rest[:end], -1)).NotTo(BeEmpty(), "%s's log tail", name)
			rest = rest[end:]
		}
		outside.WriteString(rest)
		Expect(etcdLogLine.FindAllString(outside.String(), -1)).To(BeEmpty(), "etcd output outside the report")
	})

	It("is not there when specs pass: the console shows no etcd output at all", func(ctx SpecContext) {
		c := startChild("quiet", newDataDir(), []string{"--procs=2"})
		Eventually(c.session).WithTimeout(eventually).Should(gexec.Exit(0))
		out := string(c.output.Contents())
		Expect(out).To(ContainSubstring("Passed"))
		Expect(etcdLogLine.FindAllString(out, -1)).To(BeEmpty())
		Expect(out).NotTo(ContainSubstring("etcdtest: cluster "))
	})
})
