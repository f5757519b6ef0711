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

// nodeView is what a node sees at one instant: the state a node matcher
// decides on and describes.
//
// An elector that is not a *locker.Node (any chaos.Elector) has only an ID
// and a belief: node is nil and the view holds elected alone.
type nodeView struct {
	elector   chaos.Elector
	node      *locker.Node // nil for an elector of another kind
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
	v := nodeView{elector: n, node: n, closed: n.Closed(), elected: n.Elected(), err: n.Err(), history: n.History()}
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
	return nodeView{elector: e, elected: e.Elected()}
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

// asNode returns actual as a node, or an error naming the matcher when it is
// not one.
func asNode(matcher string, actual any) (*locker.Node, error) {
	n, ok := actual.(*locker.Node)
	if !ok || n == nil {
		return nil, fmt.Errorf("%s matcher expects a *locker.Node. Got:\n%s", matcher, formatActual(actual))
	}
	return n, nil
}

// name identifies the node in a message: `node "a" on /election`.
func (v nodeView) name() string {
	if v.node == nil {
		return fmt.Sprintf("elector %q", v.elector.ID())
	}
	return fmt.Sprintf("node %q on %s", v.node.ID(), v.node.Path())
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
		return fmt.Sprintf("elector %q sees:\n    elected: %s\n", v.elector.ID(), yesNo(v.elected))
	}
	return v.sees() + etcdSays(v.node.Client(), v.node.Layout()) + events(v.node.ID(), v.history, historyShown)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
