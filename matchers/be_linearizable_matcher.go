package matchers

import (
	"fmt"
	"strings"

	"github.com/onsi/gomega/types"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
)

// BeLinearizable succeeds when a recorded history can be explained by one
// etcd applying its operations one at a time, each at an instant between its
// call and its return:
//
//	h := chaos.NewHistory()
//	cli := h.Client(cluster.Client()) // the code under test uses cli
//	// ... the code runs, chaos.Run breaks the cluster ...
//	h.Stop()
//	Expect(h).To(matchers.BeLinearizable())
//
// It checks the KV calls with porcupine against a model of etcd's KV
// (values and revisions; per key, keys touched together checked together)
// and the calls of every API recorded with History.API against its model;
// chaos.History.CheckLinearizable says exactly what is allowed (writes of
// unknown outcome, keys under leases, serializable reads). Options tune it:
// chaos.AllowStaleSerializable() accepts serializable reads that return an
// older state, chaos.CheckTimeout bounds the deciding (30 s by default; a
// history not decided in time fails as undecided, saying what to shrink).
//
// The actual is a *chaos.History after its Stop (one still recording is
// an error: stop it first, so the verdict covers a known span). The failure
// message names the keys or API, the operations that cannot be ordered
// (client, what, when, the faults in force), and the path of porcupine's
// picture of the history, an HTML file written on failure to
// $CHAOS_ARTIFACTS, else the working directory. A stopped history never
// changes, so Eventually does not poll it.
func BeLinearizable(opts ...chaos.CheckOption) types.GomegaMatcher {
	return &beLinearizableMatcher{opts: opts}
}

type beLinearizableMatcher struct {
	opts   []chaos.CheckOption
	result *chaos.Linearizability // of the last Match, for its messages
}

// stoppedHistory is actual as a stopped history, or why not.
func stoppedHistory(matcher string, actual any) (*chaos.History, error) {
	h, ok := actual.(*chaos.History)
	if !ok || h == nil {
		return nil, fmt.Errorf("%s matcher expects a *chaos.History (from chaos.NewHistory, after its Stop). Got:\n%s", matcher, formatActual(actual))
	}
	if !h.Stopped() {
		return nil, fmt.Errorf("%s matcher got a *chaos.History that is still recording: call its Stop first, e.g. h.Stop(); Expect(h).To(matchers.%s())", matcher, matcher)
	}
	return h, nil
}

func (m *beLinearizableMatcher) Match(actual any) (bool, error) {
	h, err := stoppedHistory("BeLinearizable", actual)
	if err != nil {
		return false, err
	}
	r := h.CheckLinearizable(m.opts...)
	m.result = &r
	return r.OK(), nil
}

func (m *beLinearizableMatcher) check(actual any) chaos.Linearizability {
	if m.result == nil {
		if _, err := m.Match(actual); err != nil {
			return chaos.Linearizability{}
		}
	}
	return *m.result
}

func (m *beLinearizableMatcher) FailureMessage(actual any) string {
	r := m.check(actual)
	return fmt.Sprintf("Expected a linearizable history, but it is not.\n%s\n%s", strings.TrimRight(r.String(), "\n"), htmlPicture(r))
}

func (m *beLinearizableMatcher) NegatedFailureMessage(actual any) string {
	r := m.check(actual)
	return fmt.Sprintf("Expected a history that is not linearizable, but it is.\n%s", r)
}

// MatchMayChangeInTheFuture is false: a stopped history is final.
func (m *beLinearizableMatcher) MatchMayChangeInTheFuture(any) bool { return false }

// htmlPicture writes porcupine's visualization and names its path, or says
// why not.
func htmlPicture(r chaos.Linearizability) string {
	path, err := r.SaveHTML("")
	if err != nil {
		return fmt.Sprintf("Picture: not written: %v\n", err)
	}
	return fmt.Sprintf("Picture: %s (open it in a browser)\n", path)
}
