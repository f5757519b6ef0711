package locker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

var (
	// ErrClosed is returned by a Node's methods after Close.
	ErrClosed = errors.New("locker: node is closed")
	// ErrDuplicateID is returned by New and Write when another live node
	// (a key under a live lease that is not this node's) has the same ID on
	// the same path. A node that crashed holds its ID until its lease expires.
	ErrDuplicateID = errors.New("locker: another live node has this ID on this path")
)

// beliefWindow is how long a node goes on believing it is elected after the
// last request that proved its key exists under its live lease was sent. It
// is also how long a node waits before believing, when the key it takes over
// from was removed by anything but its owner's resignation (lease expiry,
// revocation by another client, deletion by another client): the previous
// leader may not have heard yet, but it stops believing within this window.
//
// Shorter makes takeover after a crash or revocation faster; longer lets a
// leader ride out longer etcd outages (a raft leader election) without
// doubting itself.
const beliefWindow = 400 * time.Millisecond

// Leader is the elected node as some node sees it.
type Leader struct {
	ID    string
	Value string
	// Revision is the create revision of the leader's key. It strictly
	// increases with every new election: pass it to the systems the leader
	// acts on as a fencing token, and have them refuse smaller ones.
	Revision int64
}

// Node is one participant in the election on a path. Create it with New,
// join with Write, leave with Reset or Close. Its methods are safe for
// concurrent use.
//
// A Node is a handle over four loops (session.go, watch.go, deliver.go) and
// the state machine they feed (machine.go): every input goes through step,
// which applies it to the machine under mu and carries out the decision.
type Node struct {
	client *clientv3.Client
	id     string
	keys   Layout
	ttl    time.Duration

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	loops  sync.WaitGroup // watch, session and confirm loops
	opMu   sync.Mutex     // serializes changes to this node's key and lease

	kickSession chan struct{}
	kickConfirm chan struct{}
	timer       *time.Timer // steps the machine when a deadline it named passes
	out         *deliverer  // runs the callbacks

	mu      sync.Mutex
	state   *machine
	lastErr error
	hist    history
}

// New creates a node competing on path, through client. The node watches the
// election from now on but does not join it until Write. New reads the
// current state first, so Leader is meaningful as soon as it returns.
//
// The client should talk to every member of the cluster (its endpoints), so
// that the node rides out the loss of any one member. New fails with
// ErrDuplicateID when a live node with the same ID is already in the election.
func New(client *clientv3.Client, path string, opts ...Option) (*Node, error) {
	if client == nil {
		return nil, errors.New("locker: nil client")
	}
	keys := NewLayout(path)
	if keys.Path() == "" {
		return nil, errors.New("locker: empty path")
	}
	cfg := config{ttl: DefaultTTL}
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.id == "" {
		cfg.id = randomID()
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{
		client:      client,
		id:          cfg.id,
		keys:        keys,
		ttl:         cfg.ttl,
		ctx:         ctx,
		cancel:      cancel,
		kickSession: make(chan struct{}, 1),
		kickConfirm: make(chan struct{}, 1),
		out:         newDeliverer(ctx),
		state:       newMachine(cfg.id),
	}

	rctx, rcancel := context.WithTimeout(ctx, n.rpcTimeout())
	defer rcancel()
	resp, err := client.Get(rctx, keys.Prefix(), clientv3.WithPrefix())
	if err != nil {
		cancel()
		return nil, fmt.Errorf("locker: read election %s: %w", keys.Path(), err)
	}
	entries := n.entries(resp)
	if err := n.checkID(rctx, entries); err != nil {
		cancel()
		return nil, err
	}
	n.timer = time.AfterFunc(time.Hour, func() { n.step(nil) })
	n.timer.Stop()
	n.step(func(m *machine, now time.Time) { m.load(entries, resp.Header.Revision, now) })

	n.loops.Add(3)
	go n.watchLoop(resp.Header.Revision)
	go n.sessionLoop()
	go n.confirmLoop()
	go n.out.run()
	return n, nil
}

// checkID fails with ErrDuplicateID when entries, read from the path, hold
// a key of this node's ID under a live lease: another node's. A key under a
// dead lease is a crashed node's, which the first Write replaces.
func (n *Node) checkID(ctx context.Context, entries []entry) error {
	i := slices.IndexFunc(entries, func(e entry) bool { return e.id == n.id })
	if i < 0 {
		return nil
	}
	alive, err := n.leaseAlive(ctx, entries[i].lease)
	if err != nil {
		return fmt.Errorf("locker: check ID %s: %w", n.id, err)
	}
	if alive {
		return fmt.Errorf("%w: ID %q on %s", ErrDuplicateID, n.id, n.keys.Path())
	}
	return nil
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// step feeds one input to the machine (nil: only the clock moved) and
// carries out what it decides. It is the only place the decisions are acted
// on, so that recording, callbacks, the timer and the loops' wake-ups always
// follow the machine's state.
func (n *Node) step(input func(m *machine, now time.Time)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.stepLocked(input)
}

func (n *Node) stepLocked(input func(m *machine, now time.Time)) {
	now := time.Now()
	if input != nil {
		input(n.state, now)
	}
	d := n.state.decide(now)
	for _, e := range d.events {
		n.hist.add(e)
		switch e.Kind {
		case EventChanged:
			n.out.changed(e.Value, e.LeaderID)
		case EventSelected:
			n.out.selected(e.Value)
		case EventDeselected:
			n.out.deselected()
		}
	}
	if d.lost != nil {
		n.lastErr = d.lost
		kick(n.kickSession)
	}
	if !d.wake.IsZero() {
		n.timer.Reset(d.wake.Sub(now))
	}
	if d.confirm {
		kick(n.kickConfirm)
	}
}

// ID is the node's ID: the last element of its key in etcd.
func (n *Node) ID() string { return n.id }

// Layout names the election's keys in etcd: its path (Layout().Path()),
// every node's key and resign marker.
func (n *Node) Layout() Layout { return n.keys }

// Key is this node's key in etcd while it is in the election.
func (n *Node) Key() string { return n.keys.Key(n.id) }

// Write joins the election with value, or changes this node's value. If this
// node is elected (or may be first in line), it resigns first: a new election is held
// and the value applies to this node's new place at the end of the line. A
// node that is not first in line keeps its place.
//
// Write returns when etcd holds the value, or with the error that prevented
// it; after an error other than ErrClosed and ErrDuplicateID the node goes on
// trying to join in the background.
func (n *Node) Write(ctx context.Context, value string) error {
	n.opMu.Lock()
	defer n.opMu.Unlock()
	var (
		closed, inPlace bool
		ahead           entry
		rev             int64
	)
	n.step(func(m *machine, _ time.Time) {
		if closed = m.closed; !closed {
			ahead, inPlace, rev = m.write(value)
		}
	})
	if closed {
		return ErrClosed
	}
	defer kick(n.kickSession)

	if inPlace {
		ok, err := n.update(ctx, rev, value, &ahead)
		n.step(func(m *machine, _ time.Time) { m.written() })
		if err != nil {
			return fmt.Errorf("locker: write %s: %w", n.Key(), err)
		}
		if ok {
			return nil
		}
	}
	// First in line, or the line changed: resign (if the key is still
	// there) and rejoin at the end with the new value.
	if err := n.resign(ctx); err != nil {
		return err
	}
	return n.join(ctx)
}

// Reset leaves the election: this node's key is deleted and its lease
// revoked. If it was elected, the next node is elected at once. It does not
// rejoin until the next Write.
func (n *Node) Reset(ctx context.Context) error {
	n.opMu.Lock()
	defer n.opMu.Unlock()
	closed := false
	n.step(func(m *machine, _ time.Time) {
		if closed = m.closed; !closed {
			m.reset()
		}
	})
	if closed {
		return ErrClosed
	}
	return n.leave(ctx)
}

// Close leaves the election like Reset, then stops watching. Other nodes take
// over at once. Close is idempotent; after it the node's methods return
// ErrClosed and no more callbacks start. Close may be called from a callback;
// it does not wait for a callback that is running when it is called (that
// one may be its caller).
func (n *Node) Close() error {
	n.mu.Lock()
	if n.state.closed {
		n.mu.Unlock()
		return nil
	}
	n.stepLocked(func(m *machine, now time.Time) { m.close(now) })
	n.mu.Unlock()
	n.cancel() // stops the loops; the session loop lets go of opMu

	n.opMu.Lock()
	ctx, cancel := context.WithTimeout(context.Background(), n.rpcTimeout())
	err := n.leave(ctx)
	cancel()
	n.opMu.Unlock()

	n.loops.Wait()
	n.timer.Stop()
	n.out.wait()
	return err
}

// Closed reports whether Close was called.
func (n *Node) Closed() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.state.closed
}

// Elected reports whether this node holds the lock right now: its key is
// the first under the path, under its own live lease, as proved by etcd less
// than beliefWindow ago. See the package documentation for what that
// promises.
func (n *Node) Elected() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.state.believes(time.Now())
}

// FencingToken returns the token of this node's own election —
// Leader().Revision, strictly increasing per election — and true while the
// node is elected (Elected), read at one instant; 0 and false otherwise.
// It makes *Node a chaos.Fenced elector, so recordings check tokens.
func (n *Node) FencingToken() (token int64, elected bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.state.believes(time.Now()) {
		return 0, false
	}
	l, ok := n.state.leader()
	if !ok || l.ID != n.id {
		return 0, false
	}
	return l.Revision, true
}

// Leader returns the elected node as this node sees it: the first key under
// the path. The second result is false when there is none. The leader seen
// here may still be proving itself; Elected on that node says when it acts.
func (n *Node) Leader() (Leader, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.state.leader()
}

// OwnValue is the value this node itself last wrote, and whether it is in
// the election (it wrote and did not Reset or Close since). The value the
// election elected is Leader().Value.
func (n *Node) OwnValue() (value string, joined bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.state.value, n.state.joined
}

// Err is the last error the node met in the background (keeping its lease
// alive, rejoining, confirming its key), or nil. For diagnostics.
func (n *Node) Err() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.lastErr
}

// OnChange registers fn to be called whenever the elected node or its value
// changes as this node sees it, leaderID "" and value "" meaning there is no
// leader. When registered while there is a leader, fn is first called with
// it. Changes come in etcd's revision order, without repeats. Callbacks of
// one node run one at a time on one goroutine, in the order of the events;
// they must not block for long.
func (n *Node) OnChange(fn func(value, leaderID string)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.out.onChange(fn, n.state.emitted)
}

// OnSelect registers fn to be called when this node is elected, after the
// OnChange call that names it. ctx ends the moment this node must stop acting
// as leader: it lost the lock, it resigned, or it could not prove it still
// holds it. When registered while this node is elected, fn is called at once.
// Start long work on another goroutine and return.
func (n *Node) OnSelect(fn func(ctx context.Context, value string)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.out.onSelect(fn, n.state.elected, n.state.selected.Value)
}

// History returns the node's last few election events, oldest first: a
// compact timeline for failure messages.
func (n *Node) History() []Event {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.hist.list()
}

func (n *Node) String() string {
	return fmt.Sprintf("locker.Node(%s)", n.Key())
}

// kick wakes a loop without waiting: one pending wake-up is enough.
func kick(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// rpcTimeout bounds one request made without a caller's context.
func (n *Node) rpcTimeout() time.Duration {
	if n.ttl > 5*time.Second {
		return n.ttl
	}
	return 5 * time.Second
}
