package matchers_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
)

func TestMatchers(t *testing.T) {
	RegisterFailHandler(Fail)
	// Restarts and raft elections take a few hundred milliseconds on a busy
	// machine; specs wait for them with Eventually.
	SetDefaultEventuallyTimeout(5 * time.Second)
	RunSpecs(t, "matchers")
}

// One 3-member cluster per Ginkgo process; specs reset it and undo their
// faults.
var cluster = etcdtest.BeforeSuite(etcdtest.Config{})

var _ = AfterEach(func(ctx SpecContext) {
	Expect(cluster.Heal()).To(Succeed())
	for _, m := range cluster.Members() {
		if m.Paused() {
			Expect(m.Resume()).To(Succeed())
		}
		if !m.Running() {
			Expect(m.Restart(ctx)).To(Succeed())
		}
	}
	Expect(cluster.Reset(ctx)).To(Succeed())
})

var pathSeq atomic.Int64

// newPath is a fresh election path for one spec.
func newPath() string {
	return fmt.Sprintf("/matchers-test/%d-%d", GinkgoParallelProcess(), pathSeq.Add(1))
}

// newNode creates a node on path with a fixed ID and a 1s lease, closed
// after the spec; with a value it joins the election.
func newNode(path, id string, value ...string) *locker.Node {
	GinkgoHelper()
	n, err := locker.New(cluster.Client(), path, locker.WithID(id), locker.WithTTL(time.Second))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(n.Close)
	if len(value) > 0 {
		Expect(n.Write(context.Background(), value[0])).To(Succeed())
	}
	return n
}

// createRevision is the create revision of key, read from etcd.
func createRevision(key string) int64 {
	GinkgoHelper()
	resp, err := cluster.Client().Get(context.Background(), key)
	Expect(err).NotTo(HaveOccurred())
	Expect(resp.Kvs).To(HaveLen(1), "key %s", key)
	return resp.Kvs[0].CreateRevision
}

// MatchText matches a whole failure message, written out with placeholders
// for what differs from run to run: <N> a number, <HEX> a hex number,
// <TIME> an event's time, <ANY> anything on one line.
func MatchText(text string) types.GomegaMatcher {
	re := regexp.QuoteMeta(text)
	re = strings.NewReplacer(
		"<N>", `\d+`,
		"<HEX>", `[0-9a-f]+`,
		"<TIME>", `\d\d:\d\d:\d\d\.\d\d\d`,
		"<ANY>", `.*`,
	).Replace(re)
	return MatchRegexp("^" + re + "$")
}

// eventLines is how a failure message lists a node's last events.
func eventLines(n *locker.Node, max int) string {
	h := n.History()
	if len(h) > max {
		h = h[len(h)-max:]
	}
	var b strings.Builder
	for _, e := range h {
		fmt.Fprintf(&b, "    %s\n", e)
	}
	return b.String()
}

// bailsOutEarly runs an Eventually with a 10s timeout that must fail, and
// returns its failure after checking it came well before the timeout: the
// matcher said no future change is possible.
func bailsOutEarly(actual any, matcher types.GomegaMatcher) string {
	GinkgoHelper()
	Expect(matcher.(types.OracleMatcher).MatchMayChangeInTheFuture(actual)).To(BeFalse())
	start := time.Now()
	err := InterceptGomegaFailure(func() {
		Eventually(actual).WithTimeout(10 * time.Second).Should(matcher)
	})
	Expect(err).To(HaveOccurred())
	Expect(time.Since(start)).To(BeNumerically("<", 3*time.Second), "Eventually waited for a match that cannot come")
	Expect(err.Error()).To(ContainSubstring("No future change is possible"))
	return err.Error()
}

// pause freezes member m and waits until every thread of its process is
// stopped: SIGSTOP takes effect asynchronously, and Member.Pause returns
// when the signal is sent, so a request sent right after it may still be
// answered.
func pause(m *etcdtest.Member) {
	GinkgoHelper()
	pid := m.Pid()
	Expect(m.Pause()).To(Succeed())
	Eventually(func() []string {
		var running []string
		stats, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
		for _, stat := range stats {
			b, err := os.ReadFile(stat)
			if err != nil {
				continue // the thread exited
			}
			// pid (comm) state ...: comm may hold spaces, so cut after ')'
			s := string(b)
			if i := strings.LastIndexByte(s, ')'); i < 0 || !strings.HasPrefix(s[i+1:], " T") {
				running = append(running, stat)
			}
		}
		return running
	}).WithTimeout(2*time.Second).WithPolling(time.Millisecond).Should(BeEmpty(), "threads of %s not stopped yet", m)
}
