package chaos

// Recorded watches, and etcd's own history of the watched keys.
//
// A recorded Watch forwards every response from the base client's channel
// to the code's, recording it on the way. It asks etcd for the created
// notice (clientv3.WithCreatedNotify) whatever the code asked, because the
// notice's revision is where a watch without WithRev starts, and without it
// a gap right after the start could not be told from a quiet key; the notice
// reaches the code only if it asked for it.
//
// At Stop, readTruth reads what etcd itself says happened to the watched
// keys — a watch from the lowest revision any recorded watch started at, up
// to a progress notice at or past the current revision — for
// HaveReliableWatches to hold the recorded watches to.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

type recordingWatcher struct {
	w clientv3.Watcher
	r *recorder
}

func (w recordingWatcher) Watch(ctx context.Context, key string, opts ...clientv3.OpOption) clientv3.WatchChan {
	op := clientv3.OpGet(key, opts...)
	f := opFlags(op)
	wantCreated := reflectBool(op, "createdNotify")
	rec := &Watch{Client: w.r.client, Call: w.r.h.now(), Key: key, End: string(op.RangeBytes()), Revision: op.Rev(),
		NoPut: f.filterPut, NoDelete: f.filterDel, PrevKV: f.prevKV}
	if !w.r.h.addWatch(rec) {
		return w.w.Watch(ctx, key, opts...) // after Stop: not recorded
	}
	wctx, cancel := within(ctx, w.r.done)
	in := w.w.Watch(wctx, key, append(slices.Clone(opts), clientv3.WithCreatedNotify())...)
	out := make(chan clientv3.WatchResponse)
	go func() {
		defer cancel()
		defer close(out)
		defer w.r.h.closeWatch(rec)
		for resp := range in {
			w.r.h.watchResponse(rec, responseOf(resp, w.r.h.now()))
			if resp.Created && !wantCreated {
				continue
			}
			select {
			case out <- resp:
			case <-wctx.Done():
				go func() {
					for range in { // clientv3 closes it soon after the cancel
					}
				}()
				return
			}
		}
	}()
	return out
}

func (w recordingWatcher) RequestProgress(ctx context.Context) error { return w.w.RequestProgress(ctx) }

// Close ends the watches opened through this client (their contexts end
// with it); base's own watches go on.
func (w recordingWatcher) Close() error { return nil }

func reflectBool(op clientv3.Op, name string) bool {
	f := reflectField(op, name)
	return f.ok && f.b
}

func responseOf(resp clientv3.WatchResponse, at time.Duration) WatchResponse {
	r := WatchResponse{At: at, Revision: resp.Header.GetRevision(), Created: resp.Created, Progress: resp.IsProgressNotify(),
		Canceled: resp.Canceled, CompactRevision: resp.CompactRevision}
	if err := resp.Err(); err != nil {
		r.Err = err.Error()
	}
	for _, ev := range resp.Events {
		r.Events = append(r.Events, eventOf(ev))
	}
	return r
}

func eventOf(ev *clientv3.Event) WatchEvent {
	e := WatchEvent{Type: EventPut, KV: kvOf(ev.Kv)}
	if ev.Type == mvccpb.DELETE {
		e.Type = EventDelete
	}
	if ev.PrevKv != nil {
		p := kvOf(ev.PrevKv)
		e.PrevKV = &p
	}
	return e
}

// addWatch starts recording w; false after Stop.
func (h *History) addWatch(w *Watch) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return false
	}
	h.watches = append(h.watches, w)
	return true
}

// maxWatchResponses caps what one watch keeps, so a watch left open for
// hours does not grow memory without bound; beyond it, responses are
// counted as dropped and the checker says the watch was not checked past
// its cap.
const maxWatchResponses = 1_000_000

func (h *History) watchResponse(w *Watch, r WatchResponse) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped || len(w.Responses) >= maxWatchResponses {
		return
	}
	w.Responses = append(w.Responses, r)
}

func (h *History) closeWatch(w *Watch) {
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.stopped {
		w.Closed = now
	}
}

// startOf is where etcd's history must start for watch w: where the
// checker says it starts (watchStart), or, for a watch ended by compaction,
// the compacted revision (what it could have had before is gone, and etcd
// said so).
func startOf(w Watch) int64 {
	for _, r := range w.Responses {
		if r.CompactRevision != 0 {
			return max(w.Revision, r.CompactRevision)
		}
	}
	start, _ := watchStart(w)
	return start
}

// readTruth reads etcd's events for every range the watches cover, from the
// lowest revision any of them starts at to the current one, through the
// first of bases that answers.
func readTruth(ctx context.Context, bases []*clientv3.Client, watches []Watch) ([]WatchEvent, error) {
	from := watchTruthFrom(watches)
	type span struct{ key, end string }
	var spans []span
	for _, w := range watches {
		if sp := (span{w.Key, w.End}); !slices.Contains(spans, sp) {
			spans = append(spans, sp)
		}
	}
	if from == 0 {
		return nil, nil // no watch got as far as its start: nothing to hold it to
	}
	var errs []error
	for _, base := range bases {
		if base.Ctx().Err() != nil {
			errs = append(errs, errors.New("client closed"))
			continue
		}
		var all []WatchEvent
		var err error
		for _, sp := range spans {
			var evs []WatchEvent
			if evs, err = readSpan(ctx, base, sp.key, sp.end, from); err != nil {
				break
			}
			all = append(all, evs...)
		}
		if err == nil {
			return dedupeEvents(all), nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("chaos: History.Stop could not read etcd's own history of the watched keys from revision %d (%w); call Stop before closing the clients given to History.Client, while the cluster serves", from, errors.Join(errs...))
}

// readSpan watches [key, end) from revision from until a progress notice
// says every event up to the current revision was delivered.
func readSpan(ctx context.Context, cli *clientv3.Client, key, end string, from int64) ([]WatchEvent, error) {
	head, err := cli.Get(ctx, key, clientv3.WithCountOnly())
	if err != nil {
		return nil, fmt.Errorf("read the current revision: %w", err)
	}
	now := head.Header.Revision
	if now < from {
		return nil, nil
	}
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	opts := []clientv3.OpOption{clientv3.WithRev(from), clientv3.WithCreatedNotify()}
	if end != "" {
		opts = append(opts, clientv3.WithRange(end))
	}
	ch := cli.Watch(wctx, key, opts...)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var evs []WatchEvent
	for {
		select {
		case resp, ok := <-ch:
			if !ok {
				return nil, fmt.Errorf("the watch from revision %d closed: %w", from, ctx.Err())
			}
			if resp.CompactRevision != 0 {
				return nil, fmt.Errorf("etcd compacted its history at revision %d, past revision %d where the recorded watches start", resp.CompactRevision, from)
			}
			if err := resp.Err(); err != nil {
				return nil, err
			}
			last := resp.Header.Revision
			for _, ev := range resp.Events {
				evs = append(evs, eventOf(ev))
				last = ev.Kv.ModRevision
			}
			if (resp.IsProgressNotify() && resp.Header.Revision >= now) || (len(resp.Events) > 0 && last >= now) {
				return evs, nil
			}
		case <-tick.C:
			// Only a synced watch answers: the notice means nothing is left below its revision.
			if err := cli.RequestProgress(wctx); err != nil {
				return nil, fmt.Errorf("request watch progress: %w", err)
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("no end of etcd's history within %v: %w", stopTimeout, ctx.Err())
		}
	}
}

func dedupeEvents(evs []WatchEvent) []WatchEvent {
	slices.SortStableFunc(evs, func(a, b WatchEvent) int {
		if a.KV.ModRevision != b.KV.ModRevision {
			return int(a.KV.ModRevision - b.KV.ModRevision)
		}
		if a.KV.Key < b.KV.Key {
			return -1
		} else if a.KV.Key > b.KV.Key {
			return 1
		}
		return 0
	})
	return slices.CompactFunc(evs, func(a, b WatchEvent) bool {
		return a.KV.ModRevision == b.KV.ModRevision && a.KV.Key == b.KV.Key
	})
}
