package matchers

import (
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/onsi/gomega/types"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
)

// HaveExactlyOneElected succeeds when exactly one of the nodes believes it
// is elected (locker.Node.Elected):
//
//	Eventually([]*locker.Node{a, b, c}).Should(matchers.HaveExactlyOneElected())
//	Consistently(nodes, "2s").Should(matchers.HaveExactlyOneElected())
//
// The actual is a non-empty []*locker.Node, or a slice of any other
// chaos.Elector (e.g. []*myAdapter or []chaos.Elector), read through Elected. The failure message shows
// every node's view in a line, the election's keys in etcd, and each node's
// last events. Once every node is closed none can be elected again, and
// Eventually gives up at once.
func HaveExactlyOneElected() types.GomegaMatcher {
	return &haveExactlyOneElectedMatcher{}
}

type haveExactlyOneElectedMatcher struct {
	mu   sync.Mutex
	last []nodeView
}

func asNodes(actual any) ([]chaos.Elector, error) {
	var electors []chaos.Elector
	v := reflect.ValueOf(actual)
	ok := v.Kind() == reflect.Slice
	for i := 0; ok && i < v.Len(); i++ {
		e, isElector := v.Index(i).Interface().(chaos.Elector)
		ok = isElector && !isNil(e)
		electors = append(electors, e)
	}
	if !ok || len(electors) == 0 {
		return nil, fmt.Errorf("HaveExactlyOneElected matcher expects a non-empty []*locker.Node, or a slice of another chaos.Elector, without nil elements. Got:\n%s", formatActual(actual))
	}
	return electors, nil
}

func (m *haveExactlyOneElectedMatcher) Match(actual any) (bool, error) {
	nodes, err := asNodes(actual)
	if err != nil {
		return false, err
	}
	views := make([]nodeView, len(nodes))
	elected := 0
	for i, n := range nodes {
		views[i] = viewElector(n)
		if views[i].elected {
			elected++
		}
	}
	m.mu.Lock()
	m.last = views
	m.mu.Unlock()
	return elected == 1, nil
}

func (m *haveExactlyOneElectedMatcher) FailureMessage(actual any) string {
	views := m.views()
	var ids []string
	for _, v := range views {
		if v.elected {
			ids = append(ids, fmt.Sprintf("%q", v.elector.ID()))
		}
	}
	what := "none is"
	if len(ids) > 0 {
		what = fmt.Sprintf("%d are: %s", len(ids), strings.Join(ids, ", "))
	}
	return fmt.Sprintf("Expected exactly one of %d nodes to be elected, but %s.\n%s", len(views), what, describeAll(views))
}

func (m *haveExactlyOneElectedMatcher) NegatedFailureMessage(actual any) string {
	views := m.views()
	id := ""
	for _, v := range views {
		if v.elected {
			id = v.elector.ID()
		}
	}
	return fmt.Sprintf("Expected not exactly one of %d nodes to be elected, but %q is.\n%s", len(views), id, describeAll(views))
}

// MatchMayChangeInTheFuture is false once every node is closed, and for an
// actual of another type.
func (m *haveExactlyOneElectedMatcher) MatchMayChangeInTheFuture(actual any) bool {
	nodes, err := asNodes(actual)
	if err != nil {
		return false
	}
	for _, e := range nodes {
		if n, ok := e.(*locker.Node); !ok || !n.Closed() {
			return true
		}
	}
	return false
}

func (m *haveExactlyOneElectedMatcher) views() []nodeView {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last
}

// describeAll shows each node's view in a line, then what etcd says about
// each path, then each node's last events.
func describeAll(views []nodeView) string {
	var b strings.Builder
	for _, v := range views {
		state := "not elected"
		if v.elected {
			state = "ELECTED"
		}
		if v.closed {
			state += ", closed"
		}
		own := "not in the election"
		if v.joined {
			own = fmt.Sprintf("own value %q", v.ownValue)
		}
		if v.node == nil {
			fmt.Fprintf(&b, "elector %q: %s\n", v.elector.ID(), state)
			continue
		}
		fmt.Fprintf(&b, "node %q: %s; leader %s; %s", v.node.ID(), state, v.leaderString(), own)
		if v.err != nil {
			fmt.Fprintf(&b, "; last error: %v", v.err)
		}
		b.WriteString("\n")
	}
	read := map[string]bool{}
	for _, v := range views {
		if v.node != nil && !read[v.node.Layout().Path()] {
			read[v.node.Layout().Path()] = true
			b.WriteString(etcdSays(v.node.Client(), v.node.Layout()))
		}
	}
	for _, v := range views {
		if v.node != nil {
			b.WriteString(events(v.node.ID(), v.history, historyShown/2))
		}
	}
	return b.String()
}
