package matchers_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
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
		if m.State() == etcdtest.Paused {
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

// pause freezes member m (Member.Pause returns once every thread of it is
// stopped) and resumes it after the spec if the spec has not.
func pause(m *etcdtest.Member) {
	GinkgoHelper()
	Expect(m.Pause()).To(Succeed())
	DeferCleanup(func() error {
		if m.State() == etcdtest.Paused {
			return m.Resume()
		}
		return nil
	})
}

// follower is a member that is not the raft leader: pausing it changes no
// leadership, so a spec about reads through a frozen member does not also
// wait on an election.
func follower(ctx context.Context) *etcdtest.Member {
	GinkgoHelper()
	leader, err := cluster.Leader(ctx)
	Expect(err).NotTo(HaveOccurred())
	for _, m := range cluster.Members() {
		if m != leader {
			return m
		}
	}
	Fail("a 3-member cluster has a follower")
	return nil
}

// pollLog wraps a matcher and keeps the errors its Match returned; failed
// is closed at the first one, so a spec can act in the middle of an
// Eventually that has seen a read fail.
type pollLog struct {
	types.GomegaMatcher
	mu     sync.Mutex
	errs   []error
	failed chan struct{}
}

func logPolls(m types.GomegaMatcher) *pollLog {
	return &pollLog{GomegaMatcher: m, failed: make(chan struct{})}
}

func (p *pollLog) Match(actual any) (bool, error) {
	ok, err := p.GomegaMatcher.Match(actual)
	if err != nil {
		p.mu.Lock()
		p.errs = append(p.errs, err)
		if len(p.errs) == 1 {
			close(p.failed)
		}
		p.mu.Unlock()
	}
	return ok, err
}

// errors are the errors Match returned, as text.
func (p *pollLog) errors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := make([]string, len(p.errs))
	for i, err := range p.errs {
		s[i] = err.Error()
	}
	return s
}

// eventuallyAcrossResume runs Eventually(actual).Should(m) while frozen is
// paused, resumes frozen once a poll has seen the read fail, and asserts
// that Eventually then succeeded and that its first failed read said
// cannotRead.
func eventuallyAcrossResume(actual any, m types.GomegaMatcher, frozen *etcdtest.Member, cannotRead string) {
	GinkgoHelper()
	polls := logPolls(m)
	resumed := make(chan error, 1)
	go func() {
		<-polls.failed // Eventually has seen the read fail: resume the member mid-poll
		resumed <- frozen.Resume()
	}()
	Eventually(actual).WithTimeout(10 * time.Second).Should(polls)
	Expect(<-resumed).To(Succeed())
	Expect(polls.errors()).NotTo(BeEmpty())
	Expect(polls.errors()[0]).To(Equal(cannotRead))
}
