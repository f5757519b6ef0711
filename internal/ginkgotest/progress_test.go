//go:build unix

package ginkgotest_test

import (
	"os"
	"strconv"
	"strings"
	"syscall"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

var _ = Describe("A progress report", func() {
	DescribeTable("shows the cluster: raft leader, member states, faults in force",
		func(ctx SpecContext, flags []string, signal bool) {
			c := startChild("slow", newDataDir(), flags)
			if signal {
				Eventually(c.files).WithArguments("slow-*").WithTimeout(eventually).Should(HaveLen(1))
				b, err := os.ReadFile(c.files("slow-*")[0])
				Expect(err).NotTo(HaveOccurred())
				pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
				Expect(err).NotTo(HaveOccurred())
				Expect(syscall.Kill(pid, syscall.SIGUSR1)).To(Succeed())
			}
			Eventually(c.session).WithTimeout(eventually).Should(gexec.Exit(0))
			out := string(c.output.Contents())

			Expect(out).To(ContainSubstring("Spec Goroutine"), "Ginkgo emitted a progress report")
			Expect(out).To(MatchRegexp(`etcd cluster: [0-9a-f]+ \(etcd v[0-9.]+\), raft leader: node[12]\n`))
			Expect(out).To(ContainSubstring("  members: node1 running, node2 running, node3 paused\n"))
			Expect(out).To(MatchRegexp(`  network faults: .*\{node3\}`))
			Expect(out).NotTo(ContainSubstring("--- last lines of"), "compact: no log tails")
		},
		Entry("a slow spec (--poll-progress-after)", []string{"--poll-progress-after=1s", "--poll-progress-interval=1s"}, false),
		Entry("SIGUSR1", nil, true),
	)
})
