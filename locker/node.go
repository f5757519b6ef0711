package locker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
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
type Node struct {
	client *clientv3.Client
	id     string
	path   string
	prefix string // path + "/": every candidate key is prefix + ID
	key    string // this node's candidate key
	marker string // written in the same transaction that resigns this node's key
	ttl    time.Duration

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // watch, session and confirm loops
	opMu   sync.Mutex     // serializes changes to this node's key and lease

	kickSession chan struct{}
	kickConfirm chan struct{}
	kickDeliver chan struct{}
	deliverDone chan struct{}
	deliverGID  atomic.Uint64 // goroutine running callbacks; set before any callback runs

	timer *time.Timer // re-evaluates belief when a deadline passes

	mu sync.Mutex
	// what the user asked for
	closed bool
	joined bool
	value  string
	// the session: lease and key
	lease         clientv3.LeaseID
	granted       time.Duration
	leaseDeadline time.Time // last successful keep-alive sent + granted TTL
	nextKeepAlive time.Time
	myRev         int64 // create revision of this node's key; 0: no key
	resigning     bool  // this node's key is being removed: not a candidate
	updating      bool  // this node's value is being updated in place: not a candidate
	confirmedAt   time.Time
	lastErr       error
	// the view: every candidate key under the path, as of viewRev
	view      map[string]entry
	viewRev   int64
	notBefore time.Time // no belief before this instant (see beliefWindow)
	// what was delivered
	emitted   Leader
	elected   bool
	selected  Leader
	selCancel context.CancelFunc
	hist      history
	onChange  []func(value, leaderID string)
	onSelect  []func(ctx context.Context, value string)
	queue     []func()
}

type entry struct {
	id        string
	value     string
	createRev int64
	modRev    int64
	lease     clientv3.LeaseID
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
	path = strings.TrimRight(path, "/")
	if path == "" {
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
		path:        path,
		prefix:      path + "/",
		ttl:         cfg.ttl,
		ctx:         ctx,
		cancel:      cancel,
		kickSession: make(chan struct{}, 1),
		kickConfirm: make(chan struct{}, 1),
		kickDeliver: make(chan struct{}, 1),
		deliverDone: make(chan struct{}),
		view:        map[string]entry{},
	}
	n.key = n.prefix + n.id
	n.marker = n.key + "/resigned"

	rctx, rcancel := context.WithTimeout(ctx, n.rpcTimeout())
	defer rcancel()
	resp, err := client.Get(rctx, n.prefix, clientv3.WithPrefix())
	if err != nil {
		cancel()
		return nil, fmt.Errorf("locker: read election %s: %w", path, err)
	}
	if e, ok := viewOf(n.prefix, resp)[n.id]; ok {
		alive, err := n.leaseAlive(rctx, e.lease)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("locker: check ID %s: %w", n.id, err)
		}
		if alive {
			cancel()
			return nil, fmt.Errorf("%w: ID %q on %s", ErrDuplicateID, n.id, path)
		}
	}
	n.mu.Lock()
	n.timer = time.AfterFunc(time.Hour, n.onTimer)
	n.timer.Stop()
	n.loadLocked(resp, time.Now())
	n.mu.Unlock()

	n.wg.Add(3)
	go n.watchLoop(resp.Header.Revision)
	go n.sessionLoop()
	go n.confirmLoop()
	go n.deliverLoop()
	return n, nil
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ID is the node's ID: the last element of its key in etcd.
func (n *Node) ID() string { return n.id }

// Path is the election's path in etcd; the node's key is Path()+"/"+ID().
func (n *Node) Path() string { return n.path }

// Key is this node's key in etcd while it is in the election.
func (n *Node) Key() string { return n.key }

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
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return ErrClosed
	}
	n.value = value
	n.joined = true
	rev := n.myRev
	// Update in place only while a key that etcd orders before this one
	// exists: checked in the same transaction, so that a node first in line
	// never changes its value without a new election.
	ahead, inPlace := n.aheadLocked()
	inPlace = inPlace && !n.elected
	if inPlace {
		n.updating = true
	}
	n.mu.Unlock()
	defer n.kick(n.kickSession)

	if inPlace {
		ok, err := n.update(ctx, rev, value, &ahead)
		n.mu.Lock()
		n.updating = false
		n.evaluateLocked()
		n.mu.Unlock()
		if err != nil {
			return fmt.Errorf("locker: write %s: %w", n.key, err)
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
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return ErrClosed
	}
	n.joined = false
	n.mu.Unlock()
	return n.leave(ctx)
}

// Close leaves the election like Reset, then stops watching. Other nodes take
// over at once. Close is idempotent; after it the node's methods return
// ErrClosed and no more callbacks run. Close may be called from a callback.
func (n *Node) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	n.joined = false
	n.historyLocked(EventClosed, n.id, n.value, n.myRev)
	n.evaluateLocked()
	n.mu.Unlock()
	n.cancel() // stops the loops; the session loop lets go of opMu

	n.opMu.Lock()
	ctx, cancel := context.WithTimeout(context.Background(), n.rpcTimeout())
	err := n.leave(ctx)
	cancel()
	n.opMu.Unlock()

	n.wg.Wait()
	n.timer.Stop()
	if goroutineID() != n.deliverGID.Load() {
		<-n.deliverDone
	}
	return err
}

// Closed reports whether Close was called.
func (n *Node) Closed() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.closed
}

// Elected reports whether this node holds the lock right now: its key is
// the first under the path, under its own live lease, as proved by etcd less
// than beliefWindow ago. See the package documentation for what that
// promises.
func (n *Node) Elected() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.elected && time.Now().Before(n.beliefDeadlineLocked())
}

// Leader returns the elected node as this node sees it: the first key under
// the path. The second result is false when there is none. The leader seen
// here may still be proving itself; Elected on that node says when it acts.
func (n *Node) Leader() (Leader, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.leaderLocked()
}

// Value is the value this node last wrote, and whether it is in the
// election (it wrote and did not Reset or Close since).
func (n *Node) Value() (string, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.value, n.joined
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
	n.onChange = append(n.onChange, fn)
	if cur := n.emitted; cur.ID != "" {
		n.enqueueLocked(func() { fn(cur.Value, cur.ID) })
	}
}

// OnSelect registers fn to be called when this node is elected, after the
// OnChange call that names it. ctx ends the moment this node must stop acting
// as leader: it lost the lock, it resigned, or it could not prove it still
// holds it. When registered while this node is elected, fn is called at once.
// Start long work on another goroutine and return.
func (n *Node) OnSelect(fn func(ctx context.Context, value string)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.onSelect = append(n.onSelect, fn)
	if n.elected {
		ctx, value := n.selectCtxLocked()
		n.enqueueLocked(func() {
			if ctx.Err() == nil {
				fn(ctx, value)
			}
		})
	}
}

// History returns the node's last few election events, oldest first: a
// compact timeline for failure messages.
func (n *Node) History() []Event {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.hist.list()
}

func (n *Node) String() string {
	return fmt.Sprintf("locker.Node(%s)", n.key)
}

func (n *Node) kick(ch chan struct{}) {
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

func (n *Node) historyLocked(kind EventKind, leaderID, value string, rev int64) {
	n.hist.add(Event{Time: time.Now(), Kind: kind, LeaderID: leaderID, Value: value, Revision: rev})
}
