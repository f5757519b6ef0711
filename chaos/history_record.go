package chaos

// The History itself: one mutex over everything recorded, appended to by
// the recording clients (history_client.go) and by the user's API calls
// (api.go), read by the checkers after Stop. Recording is an append under
// the lock and nothing else, so it costs a call microseconds; everything
// that takes time (converting, partitioning, checking) happens after Stop.

import (
	"context"
	"slices"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// History records what the code under test does with etcd: the KV calls and
// watch responses of every client made by History.Client, and the calls of
// the user's own API (History.API). The matchers check it after Stop:
//
//	h := chaos.NewHistory()
//	cli := h.Client(cluster.Client()) // give this to the code under test
//	// ... the code runs, chaos.Run breaks the cluster ...
//	h.Stop()
//	Expect(h).To(matchers.BeLinearizable())
//	Expect(h).To(matchers.HaveReliableWatches())
//
// A History is safe for concurrent use.
type History struct {
	start time.Time

	mu      sync.Mutex
	clients int
	ops     []Operation
	watches []*Watch
	apis    []*API
	faults  []FaultWindow
	bases   []*clientv3.Client // the clients wrapped, for etcd's own history at Stop
	stopped bool
	// truth is etcd's own record of the watched keys' changes, read at Stop
	// (every event from the lowest watched revision on, per watched range);
	// truthErr says why it could not be read.
	truth    []WatchEvent
	truthErr error
}

// NewHistory starts an empty history; its clock starts now.
func NewHistory() *History {
	return &History{start: time.Now()}
}

// now is the offset of this instant on the history's monotonic clock.
func (h *History) now() time.Duration { return time.Since(h.start) }

// Stopped says whether Stop was called.
func (h *History) Stopped() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stopped
}

// Append adds operations recorded by other means — another client library,
// a log, a table test — to the history, as if its clients had made them.
// Their Client numbers are theirs to choose; History.Client numbers its
// clients from 0 in the order it makes them.
func (h *History) Append(ops ...Operation) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ops = append(h.ops, ops...)
}

// AppendWatch adds a watch recorded by other means, like Append.
func (h *History) AppendWatch(ws ...Watch) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, w := range ws {
		w := w
		h.watches = append(h.watches, &w)
	}
}

// Operations returns the recorded KV calls, in the order they returned.
func (h *History) Operations() []Operation {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.ops)
}

// Watches returns the recorded watches with what each delivered so far.
func (h *History) Watches() []Watch {
	h.mu.Lock()
	defer h.mu.Unlock()
	ws := make([]Watch, len(h.watches))
	for i, w := range h.watches {
		ws[i] = *w
		ws[i].Responses = slices.Clone(w.Responses)
	}
	return ws
}

// Faults returns the fault windows noted while recording (a chaos.Run
// with Options.History set notes each of its steps).
func (h *History) Faults() []FaultWindow {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.faults)
}

// Note adds a chaos.Run step to the history's fault windows; Run calls it
// for every step when Options.History is set.
func (h *History) Note(s Step) {
	w := FaultWindow{What: s.What(), Start: s.Start.Sub(h.start)}
	if !s.End.IsZero() {
		w.End = s.End.Sub(h.start)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.faults = append(h.faults, w)
}

// record appends one finished KV call.
func (h *History) record(op Operation) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.stopped {
		h.ops = append(h.ops, op)
	}
}

// stopTimeout bounds what Stop reads from etcd.
const stopTimeout = 10 * time.Second

// Stop ends the recording: calls and watch responses after it are not
// recorded, and the matchers read the history as it stands. When watches
// were recorded, Stop reads etcd's own history of the watched keys (every
// change from the lowest revision a watch started at), which
// HaveReliableWatches holds the watches to; that read is bounded by 10 s,
// and its failure is reported by the matcher, not here. Stop is
// idempotent.
func (h *History) Stop() {
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return
	}
	h.stopped = true
	watches := make([]Watch, len(h.watches))
	for i, w := range h.watches {
		watches[i] = *w
	}
	bases := slices.Clone(h.bases)
	h.mu.Unlock()

	if len(watches) == 0 || len(bases) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	truth, err := readTruth(ctx, bases, watches)
	h.mu.Lock()
	h.truth, h.truthErr = truth, err
	h.mu.Unlock()
}

// etcdEvents is what Stop read of etcd's own history, and why not.
func (h *History) etcdEvents() ([]WatchEvent, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.truth, h.truthErr
}
