package matchers

import (
	"fmt"

	"github.com/onsi/gomega/types"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
)

// HaveReliableWatches succeeds when every watch recorded in a history kept
// etcd's watch guarantees:
//
//	h := chaos.NewHistory()
//	cli := h.Client(cluster.Client()) // the code under test watches through cli
//	// ... writes, faults ...
//	h.Stop()
//	Expect(h).To(matchers.HaveReliableWatches())
//
// Ordered (revisions never go back, one revision's events arrive
// together), unique (no event twice), reliable (no event of the watched
// range missing between the watch's start and the last revision it
// delivered, also across clientv3's own reconnections), resumed (a new
// watch of the same client and range, started at a revision, left out
// nothing since the last one ended), and each event's value and revisions
// what the write made. The events that should have come are etcd's own
// history of the watched keys, read by History.Stop, and the recorded
// writes. A watch ended by compaction is not a failure: etcd announced the
// loss (the failure message of another check lists it). See
// chaos.History.CheckWatches for the details.
//
// The actual is a *chaos.History after its Stop. The failure message names
// each watch (client, key, start), what it missed or got wrong, when, and
// the faults in force then.
func HaveReliableWatches() types.GomegaMatcher {
	return &haveReliableWatchesMatcher{}
}

type haveReliableWatchesMatcher struct {
	report *chaos.WatchReport // of the last Match, for its messages
}

func (m *haveReliableWatchesMatcher) Match(actual any) (bool, error) {
	h, err := stoppedHistory("HaveReliableWatches", actual)
	if err != nil {
		return false, err
	}
	r := h.CheckWatches()
	m.report = &r
	return r.Reliable(), nil
}

func (m *haveReliableWatchesMatcher) check(actual any) chaos.WatchReport {
	if m.report == nil {
		if _, err := m.Match(actual); err != nil {
			return chaos.WatchReport{}
		}
	}
	return *m.report
}

func (m *haveReliableWatchesMatcher) FailureMessage(actual any) string {
	return fmt.Sprintf("Expected reliable watches, but they were not.\n%s", m.check(actual))
}

func (m *haveReliableWatchesMatcher) NegatedFailureMessage(actual any) string {
	return fmt.Sprintf("Expected unreliable watches, but every watch was reliable.\n%s", m.check(actual))
}

// MatchMayChangeInTheFuture is false: a stopped history is final.
func (m *haveReliableWatchesMatcher) MatchMayChangeInTheFuture(any) bool { return false }
