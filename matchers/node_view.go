package matchers

import (
	"context"
	"fmt"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
)

// Observer is anything that can say which node it sees elected, and with
// what value: *locker.Node, or an adapter around another election library.
// HaveLeader and HaveValue accept one. It is defined here rather than in
// chaos because its answer is a locker.Leader, and chaos must not depend on
// locker; an adapter fills in ID and Value (and Revision, its fencing token,
// where it has one).
type Observer interface {
	ID() string                    // names it in failure messages
	Leader() (locker.Leader, bool) // the elected node as it sees it; false when it sees none
}

// nodeView is what a node sees at one instant: the state a node matcher
// decides on and describes.
//
// An elector that is not a *locker.Node (any chaos.Elector) has only an ID
// and a belief: node is nil and the view holds elected alone. An Observer
// that is not a *locker.Node adds the leader it sees, and its belief only if
// it is an elector too.
type nodeView struct {
	elector   chaos.Elector // nil for an observer that is not an elector
	observer  Observer      // nil for an elector that is not an observer
	node      *locker.Node  // nil for an elector or observer of another kind
	closed    bool
	elected   bool
	leader    locker.Leader
	hasLeader bool
	ownValue  string // the value the node itself wrote (not the elected one)
	joined    bool
	err       error
	history   []locker.Event
}

func viewNode(n *locker.Node) nodeView {
	v := nodeView{elector: n, observer: n, node: n, closed: n.Closed(), elected: n.Elected(), err: n.Err(), history: n.History()}
	v.leader, v.hasLeader = n.Leader()
	v.ownValue, v.joined = n.OwnValue()
	return v
}

// viewElector is what any elector sees: a locker node's whole view, or
// another elector's belief.
func viewElector(e chaos.Elector) nodeView {
	if n, ok := e.(*locker.Node); ok {
		return viewNode(n)
	}
	v := nodeView{elector: e, elected: e.Elected()}
	if o, ok := e.(Observer); ok {
		v.observer = o
		v.leader, v.hasLeader = observe(o)
	}
	return v
}

// viewObserver is what any observer sees: a locker node's whole view, or
// another observer's leader (and belief, if it is an elector).
func viewObserver(o Observer) nodeView {
	if n, ok := o.(*locker.Node); ok {
		return viewNode(n)
	}
	if e, ok := o.(chaos.Elector); ok {
		return viewElector(e)
	}
	v := nodeView{observer: o}
	v.leader, v.hasLeader = observe(o)
	return v
}

// observe asks o whom it sees elected. An observer that sees none may still
// return a stale Leader with false: the view holds none, so HaveLeader
// matches "" as the doc says.
func observe(o Observer) (locker.Leader, bool) {
	l, ok := o.Leader()
	if !ok {
		return locker.Leader{}, false
	}
	return l, true
}

// lastObservedOrNow is what the last Match saw, or what actual sees now if
// Match was not called with it.
func lastObservedOrNow(last nodeView, actual any) nodeView {
	if o, ok := actual.(Observer); ok && !isNil(actual) && last.observer != o {
		return viewObserver(o)
	}
	return last
}

// asObserver returns actual as an observer, or an error naming the matcher
// when it is not one.
func asObserver(matcher string, actual any) (Observer, error) {
	o, ok := actual.(Observer)
	if !ok || isNil(actual) {
		return nil, fmt.Errorf("%s matcher expects a *locker.Node or another matchers.Observer (ID() string, Leader() (locker.Leader, bool)). Got:\n%s", matcher, formatActual(actual))
	}
	return o, nil
}

// asElector returns actual as an elector, or an error naming the matcher
// when it is not one.
func asElector(matcher string, actual any) (chaos.Elector, error) {
	e, ok := actual.(chaos.Elector)
	if !ok || isNil(actual) {
		return nil, fmt.Errorf("%s matcher expects a *locker.Node or another chaos.Elector (ID() string, Elected() bool). Got:\n%s", matcher, formatActual(actual))
	}
	return e, nil
}

// name identifies the node in a message: `node "a" on /election`.
func (v nodeView) name() string {
	if v.node == nil {
		return fmt.Sprintf("elector %q", v.id())
	}
	return fmt.Sprintf("node %q on %s", v.node.ID(), v.node.Layout().Path())
}

// id is the ID of whatever the view is of.
func (v nodeView) id() string {
	if v.elector != nil {
		return v.elector.ID()
	}
	return v.observer.ID()
}

// leaderString describes the leader this node sees.
func (v nodeView) leaderString() string {
	if !v.hasLeader {
		return "none"
	}
	return fmt.Sprintf("%q with value %q, fencing token %d", v.leader.ID, v.leader.Value, v.leader.Revision)
}

// sees describes the node's view, its own state, and its last events.
func (v nodeView) sees() string {
	var b strings.Builder
	fmt.Fprintf(&b, "node %q sees:\n", v.node.ID())
	if v.closed {
		b.WriteString("    closed:  yes (it will not change any more)\n")
	}
	fmt.Fprintf(&b, "    elected: %s\n", yesNo(v.elected))
	fmt.Fprintf(&b, "    leader:  %s\n", v.leaderString())
	if v.joined {
		fmt.Fprintf(&b, "    own:     in the election with value %q\n", v.ownValue)
	} else {
		b.WriteString("    own:     not in the election\n")
	}
	if v.err != nil {
		fmt.Fprintf(&b, "    last error: %v\n", v.err)
	}
	return b.String()
}

// events lists a node's last max events with their times.
func events(id string, history []locker.Event, max int) string {
	var b strings.Builder
	if len(history) > max {
		history = history[len(history)-max:]
	}
	if len(history) == 0 {
		fmt.Fprintf(&b, "last events of node %q: none\n", id)
		return b.String()
	}
	fmt.Fprintf(&b, "last events of node %q:\n", id)
	for _, e := range history {
		fmt.Fprintf(&b, "    %s\n", e)
	}
	return b.String()
}

// etcdSays reads the election's candidate keys through client, as etcd has
// them now, in create-revision order: the first is the leader.
func etcdSays(client *clientv3.Client, keys locker.Layout) string {
	var b strings.Builder
	prefix := keys.Prefix()
	if client == nil || client.Ctx().Err() != nil {
		fmt.Fprintf(&b, "etcd says: cannot read %s*: the node's client is closed\n", prefix)
		return b.String()
	}
	ctx, cancel := context.WithTimeout(client.Ctx(), QueryTimeout)
	defer cancel()
	resp, err := client.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
	if err != nil {
		fmt.Fprintf(&b, "etcd says: reading %s* failed: %v\n", prefix, err)
		return b.String()
	}
	var candidates []*mvccpb.KeyValue
	for _, kv := range resp.Kvs {
		if _, ok := keys.Candidate(string(kv.Key)); ok {
			candidates = append(candidates, kv) // not a node's bookkeeping (a resign marker)
		}
	}
	if len(candidates) == 0 {
		fmt.Fprintf(&b, "etcd says: no candidate keys under %s (revision %d)\n", prefix, resp.Header.Revision)
		return b.String()
	}
	fmt.Fprintf(&b, "etcd says (keys under %s in create-revision order, revision %d):\n", prefix, resp.Header.Revision)
	for _, kv := range candidates {
		fmt.Fprintf(&b, "    %s = %q (create revision %d, lease %x)\n", kv.Key, kv.Value, kv.CreateRevision, kv.Lease)
	}
	return b.String()
}

// describe is a node's full account: what it sees, what etcd says, and the
// node's last events.
func (v nodeView) describe() string {
	if v.node == nil {
		s := fmt.Sprintf("elector %q sees:\n", v.id())
		if v.elector != nil {
			s += fmt.Sprintf("    elected: %s\n", yesNo(v.elected))
		}
		if v.observer != nil {
			s += fmt.Sprintf("    leader:  %s\n", v.leaderString())
		}
		return s
	}
	return v.sees() + etcdSays(v.node.Client(), v.node.Layout()) + events(v.node.ID(), v.history, historyShown)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
