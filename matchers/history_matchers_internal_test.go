package matchers

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
)

// Histories written by hand, as the checkers' own tables in chaos are: these
// run without etcd (ETCDTEST_BINARY=/nonexistent go test ./matchers -run TestCheck).

func put(client int, from, to time.Duration, key, value string, rev int64) chaos.Operation {
	return chaos.Operation{Client: client, Call: from, Return: to, Outcome: chaos.Succeeded,
		Request:  chaos.Request{Then: []chaos.Op{{Type: chaos.OpPut, Key: key, Value: value}}},
		Response: &chaos.Response{Revision: rev, Succeeded: true, Results: []chaos.Result{{}}}}
}

func get(client int, from, to time.Duration, key string, rev int64, kvs ...chaos.KV) chaos.Operation {
	return chaos.Operation{Client: client, Call: from, Return: to, Outcome: chaos.Succeeded,
		Request:  chaos.Request{Then: []chaos.Op{{Type: chaos.OpGet, Key: key}}},
		Response: &chaos.Response{Revision: rev, Succeeded: true, Results: []chaos.Result{{KVs: kvs, Count: int64(len(kvs))}}}}
}

const ms = time.Millisecond

// staleRead is a history in which client 1 reads v1 after client 0's Put
// of v2 was acknowledged.
func staleRead() *chaos.History {
	h := chaos.NewHistory()
	h.Append(
		put(0, 0, 1*ms, "/k", "v1", 2),
		put(0, 2*ms, 3*ms, "/k", "v2", 3),
		get(1, 4*ms, 5*ms, "/k", 2, chaos.KV{Key: "/k", Value: "v1", CreateRevision: 2, ModRevision: 2, Version: 1}),
	)
	h.Stop()
	return h
}

func TestCheckBeLinearizable(t *testing.T) {
	t.Setenv(chaos.EnvArtifacts, t.TempDir())
	m := BeLinearizable()

	running := chaos.NewHistory()
	if _, err := m.Match(running); err == nil || !strings.Contains(err.Error(), "still recording: call its Stop first") {
		t.Errorf("a running history: want the Stop error, got %v", err)
	}
	if _, err := m.Match("history"); err == nil || !strings.Contains(err.Error(), "expects a *chaos.History") {
		t.Errorf("a string: want the type error, got %v", err)
	}

	h := staleRead()
	ok, err := m.Match(h)
	if err != nil || ok {
		t.Fatalf("a stale read: want a mismatch, got %v, %v", ok, err)
	}
	msg := m.FailureMessage(h)
	for _, want := range []string{"Expected a linearizable history, but it is not.\n", `"/k"`, "client 1", "v1"} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure message lacks %q:\n%s", want, msg)
		}
	}
	pic := regexp.MustCompile(`(?m)^Picture: (\S+\.html) \(open it in a browser\)$`).FindStringSubmatch(msg)
	if pic == nil {
		t.Fatalf("no picture line on a line of its own:\n%s", msg)
	}
	if st, err := os.Stat(pic[1]); err != nil || st.Size() == 0 {
		t.Errorf("picture %s: %v", pic[1], err)
	}
	if m.(interface{ MatchMayChangeInTheFuture(any) bool }).MatchMayChangeInTheFuture(h) {
		t.Error("a stopped history is final")
	}

	// The near miss: the read comes before the second Put returned.
	near := chaos.NewHistory()
	near.Append(
		put(0, 0, 1*ms, "/k", "v1", 2),
		put(0, 2*ms, 6*ms, "/k", "v2", 3),
		get(1, 4*ms, 5*ms, "/k", 2, chaos.KV{Key: "/k", Value: "v1", CreateRevision: 2, ModRevision: 2, Version: 1}),
	)
	near.Stop()
	if ok, err := BeLinearizable().Match(near); err != nil || !ok {
		t.Errorf("a read concurrent with the write: want a match, got %v, %v", ok, err)
	}
	neg := BeLinearizable()
	neg.Match(near)
	if got := neg.NegatedFailureMessage(near); !strings.HasPrefix(got, "Expected a history that is not linearizable, but it is.\n") {
		t.Errorf("negated message: %q", got)
	}
}

func TestCheckHaveReliableWatches(t *testing.T) {
	writes := []chaos.Operation{
		put(0, 0, 1*ms, "/w/a", "1", 2),
		put(0, 2*ms, 3*ms, "/w/b", "2", 3),
		put(0, 4*ms, 5*ms, "/w/a", "3", 4),
	}
	ev := func(key, value string, create, mod, version int64) chaos.WatchEvent {
		return chaos.WatchEvent{Type: chaos.EventPut, KV: chaos.KV{Key: key, Value: value, CreateRevision: create, ModRevision: mod, Version: version}}
	}
	watch := func(events ...chaos.WatchEvent) *chaos.History {
		h := chaos.NewHistory()
		h.Append(writes...)
		resps := []chaos.WatchResponse{{At: 0, Revision: 1, Created: true}}
		for i, e := range events {
			resps = append(resps, chaos.WatchResponse{At: time.Duration(i+1) * 2 * ms, Revision: e.KV.ModRevision, Events: []chaos.WatchEvent{e}})
		}
		h.AppendWatch(chaos.Watch{Client: 1, Key: "/w/", End: "/w0", Responses: resps})
		h.Stop()
		return h
	}

	gap := watch(ev("/w/a", "1", 2, 2, 1), ev("/w/a", "3", 2, 4, 2)) // the Put of /w/b at 3 never came
	m := HaveReliableWatches()
	ok, err := m.Match(gap)
	if err != nil || ok {
		t.Fatalf("a watch with a gap: want a mismatch, got %v, %v", ok, err)
	}
	msg := m.FailureMessage(gap)
	for _, want := range []string{"Expected reliable watches, but they were not.\n", "/w/b", "client 1"} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure message lacks %q:\n%s", want, msg)
		}
	}

	whole := watch(ev("/w/a", "1", 2, 2, 1), ev("/w/b", "2", 3, 3, 1), ev("/w/a", "3", 2, 4, 2))
	if ok, err := HaveReliableWatches().Match(whole); err != nil || !ok {
		t.Errorf("a watch that got every event: want a match, got %v, %v\n%s", ok, err, HaveReliableWatches().FailureMessage(whole))
	}
	if _, err := HaveReliableWatches().Match(chaos.NewHistory()); err == nil {
		t.Error("a running history: want an error")
	}
}
