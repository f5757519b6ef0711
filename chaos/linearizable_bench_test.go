package chaos

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkCheckLinearizable checks synthetic linearizable histories the
// size issue 19 names: 10,000 operations on 100 keys from 8 clients with
// about 3% of unknown outcome (target ≤ 1 s per check), and 100,000
// (target ≤ 10 s); and, harder, 10,000 on 10 hot keys with 10% of
// unknown outcome (a run under heavy faults).
//
//	go test ./chaos -run '^$' -bench BenchmarkCheckLinearizable -benchtime 3x
func BenchmarkCheckLinearizable(b *testing.B) {
	for _, s := range []simulation{
		{seed: 1, ops: 10_000, keys: 100, clients: 8, unknown: 0.03},
		{seed: 1, ops: 100_000, keys: 100, clients: 8, unknown: 0.03},
		{seed: 1, ops: 10_000, keys: 10, clients: 8, unknown: 0.10},
	} {
		b.Run(fmt.Sprintf("ops=%d,keys=%d,unknown=%.0f%%", s.ops, s.keys, 100*s.unknown), func(b *testing.B) {
			h := NewHistory()
			h.Append(simulate(s)...)
			var l Linearizability
			for b.Loop() {
				l = h.CheckLinearizable(CheckTimeout(time.Minute))
				if !l.OK() {
					b.Fatalf("a linearizable history failed:\n%s", l)
				}
			}
			b.ReportMetric(float64(l.Operations)*float64(b.N)/b.Elapsed().Seconds(), "ops-checked/s")
			b.ReportMetric(float64(l.Partitions), "partitions")
		})
	}
}

// simulation describes a history of a correct etcd: clients calling one
// operation at a time, each taking effect at a point between its call and
// its return (or, for some of unknown outcome, a little after, or never).
type simulation struct {
	seed    uint64
	ops     int     // operations in all
	keys    int     // keys, chosen uniformly
	clients int     // concurrent clients
	unknown float64 // share of operations whose outcome is unknown
}

// simEvent is a call, an operation taking effect, or a return.
type simEvent struct {
	at   time.Duration
	kind int // simCall, simApply, simReturn
	op   *simOp
	cli  int
}

const (
	simApply = iota // ordered first at one instant: the effect, then who sees it
	simReturn
	simCall
)

type simOp struct {
	Operation
	apply bool // a write of unknown outcome that takes effect
}

type simQueue []simEvent

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].kind < q[j].kind
}
func (q simQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)   { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// simulate runs the simulation against a sequential store with etcd's
// revisions and returns the recorded history, in the order calls returned.
func simulate(s simulation) []Operation {
	rng := rand.New(rand.NewPCG(s.seed, 19))
	store := map[string]KV{}
	var rev int64 = 1
	seen := make([]map[string]int64, s.clients) // each client's last seen mod revision per key
	for i := range seen {
		seen[i] = map[string]int64{}
	}
	var q simQueue
	for c := range s.clients {
		heap.Push(&q, simEvent{at: time.Duration(rng.Int64N(int64(time.Millisecond))), kind: simCall, cli: c})
	}
	var out []Operation
	called := 0
	ms := func(lo, hi float64) time.Duration {
		return time.Duration((lo + rng.Float64()*(hi-lo)) * float64(time.Millisecond))
	}
	for q.Len() > 0 {
		e := heap.Pop(&q).(simEvent)
		switch e.kind {
		case simCall:
			if called == s.ops {
				continue
			}
			called++
			op := &simOp{Operation: Operation{Client: e.cli, Call: e.at, Request: simRequest(rng, s, e.cli, called, seen[e.cli])}}
			d := ms(1, 10)
			op.Return = e.at + d
			at := e.at + time.Duration(rng.Int64N(int64(d)))
			if rng.Float64() < s.unknown {
				op.Outcome = Unknown
				op.apply = op.Request.Writes() && rng.IntN(2) == 0
				at += ms(0, 20) // a proposal may be applied after the client gave up
			}
			heap.Push(&q, simEvent{at: op.Return, kind: simReturn, op: op, cli: e.cli})
			if op.Outcome != Unknown || op.apply {
				heap.Push(&q, simEvent{at: at, kind: simApply, op: op})
			}
		case simApply:
			e.op.Response = simServe(store, &rev, e.op.Request)
		case simReturn:
			op := e.op.Operation
			if op.Outcome == Unknown {
				op.Response, op.Err = nil, errSimTimeout
			}
			for _, res := range responseResults(op.Response) {
				for _, kv := range res.KVs {
					seen[e.cli][kv.Key] = kv.ModRevision
				}
			}
			out = append(out, op)
			heap.Push(&q, simEvent{at: op.Return + ms(0, 2), kind: simCall, cli: e.cli})
		}
	}
	return out
}

var errSimTimeout = fmt.Errorf("context deadline exceeded")

func responseResults(r *Response) []Result {
	if r == nil {
		return nil
	}
	return r.Results
}

// simRequest draws one call: 45% Get (a tenth of them serializable), 35%
// Put, 10% Delete, 10% compare-and-swap on the mod revision last seen.
func simRequest(rng *rand.Rand, s simulation, client, n int, seen map[string]int64) Request {
	key := fmt.Sprintf("/bench/k%03d", rng.IntN(s.keys))
	value := fmt.Sprintf("c%d-%d", client, n)
	switch p := rng.IntN(100); {
	case p < 45:
		return Request{Then: []Op{{Type: OpGet, Key: key, Serializable: p < 5}}}
	case p < 80:
		return Request{Then: []Op{{Type: OpPut, Key: key, Value: value}}}
	case p < 90:
		return Request{Then: []Op{{Type: OpDelete, Key: key}}}
	}
	return Request{Txn: true,
		Compares: []Compare{{Key: key, Target: CompareMod, Result: "=", Number: seen[key]}},
		Then:     []Op{{Type: OpPut, Key: key, Value: value}},
		Else:     []Op{{Type: OpGet, Key: key}}}
}

// simServe applies a request to the sequential store as etcd would.
func simServe(store map[string]KV, rev *int64, req Request) *Response {
	branch, succeeded := req.Then, true
	for _, c := range req.Compares {
		kv := store[c.Key]
		if !holds(c.Result, cmpInt(kv.ModRevision, c.Number)) {
			succeeded = false
		}
	}
	if !succeeded {
		branch = req.Else
	}
	resp := &Response{Succeeded: succeeded}
	next := *rev + 1
	wrote := false
	for _, op := range branch {
		kv, exists := store[op.Key]
		switch op.Type {
		case OpGet:
			var res Result
			if exists {
				res = Result{KVs: []KV{kv}, Count: 1}
			}
			resp.Results = append(resp.Results, res)
		case OpPut:
			if !exists {
				kv = KV{Key: op.Key, CreateRevision: next}
			}
			kv.Value, kv.ModRevision, kv.Version = op.Value, next, kv.Version+1
			store[op.Key] = kv
			wrote = true
			resp.Results = append(resp.Results, Result{})
		case OpDelete:
			var res Result
			if exists {
				delete(store, op.Key)
				res.Deleted = 1
				wrote = true
			}
			resp.Results = append(resp.Results, res)
		}
	}
	if wrote {
		*rev = next
	}
	resp.Revision = *rev
	return resp
}
