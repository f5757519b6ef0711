package chaos

// Checking a History for linearizability: porcupine, with the model of
// etcd's KV in kvmodel.go for the recorded KV calls and each API's own
// model for its calls.
//
// What is checked. The KV calls of h.Operations(): a call that Failed is
// left out (it had no effect), and so is a read of Unknown outcome (it tells
// nothing). A write of Unknown outcome may take effect at any point after
// its call, or never: it returns, for porcupine, after every other call,
// and the model takes it with a revision no one saw. Every API of h.APIs()
// is checked against its own Model, the same way.
//
// Partitions. Calls on one key — Get, Put, Delete, and Txns whose compares
// and operations name that key alone — are checked per key; a call over
// several keys (a range or prefix Get or Delete, a multi-key Txn) joins the
// keys it touches into one partition, and a range touches every key of the
// history that lies in it. Partitions are independent: each is one
// porcupine check, run in parallel (GOMAXPROCS at once), all bounded by one
// deadline (CheckTimeout, 30 s by default). A partition not decided by then
// fails as undecided — the check never hangs.
//
// Writes of unknown outcome are what makes checking expensive: porcupine
// tries each pending one at every point, and k of them pending on one key
// are 2^k subsets. Most of them are anonymous — a Put whose value no call
// ever shows, a single-key Delete — and their effects cannot be told apart,
// so each class of them (one key, one kind, one lease) is placed in the
// order called, one after the other (anonClasses): k+1 choices instead of
// 2^k, and no verdict changes. Measured (BenchmarkCheckLinearizable, 2
// cores): 10,000 calls on 100 keys from 8 clients, 3% of unknown outcome,
// in 31 ms; 100,000 in 0.4 s; one key with 73 writes of unknown outcome
// among 4,000 calls in 12 s (undecided after a minute without the
// classes).
//
// Revisions. A write's revision must exceed both the key's last write and
// every revision the key was read at (a Get served at revision H saw every
// write up to H); a Get's key-values must equal the model's exactly (value,
// lease, create and mod revisions, version), and its revision must not be
// below the key's last write. Transactions evaluate their compares on the
// state with etcd's rules (a missing key has version, create and mod 0,
// and a value compare on it is false); the branch taken must be the one the
// compares choose.
//
// Serializable reads are checked like the others by default, and a
// violation that a serializable read is part of says so. With
// AllowStaleSerializable, and always for a Get at a past revision
// (clientv3.WithRev), the read only has to return a state that existed
// before it returned (at that revision): it may take its place anywhere in
// the order before its return, though not before the write that made the
// value it shows.
//
// The failure message, per partition that fails: its keys (or the API),
// the longest order porcupine found and the state it ends in, and the calls
// that could come next but cannot — which client, what, when, why not, and
// the faults in force meanwhile (History.Faults). SaveHTML draws porcupine's
// picture of the failing partitions, fault windows included.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"
)

// DefaultCheckTimeout bounds CheckLinearizable unless CheckTimeout says
// otherwise.
const DefaultCheckTimeout = 30 * time.Second

// CheckOption tunes History.CheckLinearizable (and so
// matchers.BeLinearizable).
type CheckOption func(*checkOptions)

type checkOptions struct {
	staleSerializable bool
	timeout           time.Duration
}

// AllowStaleSerializable accepts serializable Gets (clientv3.WithSerializable)
// that return an old state: such a read only has to return a state that
// existed before it returned — a key-value some write made (whose call came
// before the read returned), or the key's state before recording; absent
// only if the key was absent at some point before. A member cut off from the
// leader answers serializable reads from what it has, which is etcd's
// documented behaviour; without this option such a read fails the check,
// which is what code that must not read stale data wants.
func AllowStaleSerializable() CheckOption {
	return func(o *checkOptions) { o.staleSerializable = true }
}

// CheckTimeout bounds how long the check may take to decide (default
// DefaultCheckTimeout). Linearizability checking is NP-hard: a partition
// with many concurrent calls, or many of unknown outcome, can take longer
// than any wait; it then fails as undecided, with what to shrink.
func CheckTimeout(d time.Duration) CheckOption {
	return func(o *checkOptions) { o.timeout = d }
}

// Linearizability is the verdict of History.CheckLinearizable.
type Linearizability struct {
	Operations int           // calls checked: KV calls (not failed ones, not reads of unknown outcome) and API calls
	Partitions int           // independent groups they were checked in: keys, keys joined by multi-key calls, API partitions
	Elapsed    time.Duration // how long the check took
	Timeout    time.Duration // the bound it had (CheckTimeout)
	Violations []Violation   // the partitions that could not be ordered, or not decided in time
	Faults     []FaultWindow // the history's fault windows, as the message and the picture show them

	stale bool
	units []*unit // every partition, as checked, for SaveHTML
	end   int64   // the end of the history (ns), where calls of unknown outcome return
	at    time.Time
}

// Violation is one partition that could not be ordered — no order of its
// calls explains what they returned — or whose check ran out of time.
type Violation struct {
	Keys []string // the partition's keys, sorted; empty for an API
	API  string   // the API whose calls these are; "" for KV calls
	// Undecided: the check ran out of time (CheckTimeout) before it could
	// order the calls or prove that they cannot be.
	Undecided bool

	Operations int // calls in the partition
	Clients    int // distinct clients among them
	Unknown    int // calls of unknown outcome among them
	Ordered    int // calls in the longest order found (not counting trailing calls of unknown outcome)
	State      string
	// Frontier holds the calls that could come next in that order (each
	// was called before the earliest return of the calls not in it) and
	// cannot follow State.
	Frontier []Unordered
	// Serializable: a serializable read is in Frontier, and
	// AllowStaleSerializable was not given.
	Serializable bool
}

// Unordered is a call that cannot take the next place in the longest order
// found.
type Unordered struct {
	Client       int
	Call, Return time.Duration // as recorded, since NewHistory
	What         string        // the call and what it returned
	Why          string        // why it cannot follow the state ("" when the model does not say)
	Unknown      bool          // its outcome is unknown: it may take effect here, later, or never
	Serializable bool          // a serializable Get
	Faults       []FaultWindow // the fault windows in force while it ran
}

// unit is one partition: its model, its calls, and how its check went.
type unit struct {
	keys  []string // KV partition's keys
	api   string
	kv    bool
	model porcupine.Model
	ops   []porcupine.Operation

	result porcupine.CheckResult
	info   porcupine.LinearizationInfo
	ran    bool
}

// OK says whether every partition was ordered.
func (l Linearizability) OK() bool { return len(l.Violations) == 0 }

// CheckLinearizable checks the recorded KV calls against a model of etcd's
// KV, and every API's calls against its model, with porcupine (see the
// comment at the top of linearizable.go, and chaos's package doc, for the
// rules). It reads the history as it stands; call it after Stop.
func (h *History) CheckLinearizable(opts ...CheckOption) Linearizability {
	o := checkOptions{timeout: DefaultCheckTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.timeout <= 0 {
		o.timeout = DefaultCheckTimeout
	}
	start := time.Now()
	faults := h.Faults()
	units, end := kvUnits(h.Operations(), o, faults)
	for _, a := range h.APIs() {
		units = append(units, apiUnits(a)...)
	}
	runUnits(units, start.Add(o.timeout))
	l := Linearizability{Partitions: len(units), Timeout: o.timeout, Faults: faults, stale: o.staleSerializable, units: units, end: end, at: start}
	for _, u := range units {
		l.Operations += len(u.ops)
		if u.result != porcupine.Ok {
			l.Violations = append(l.Violations, u.violation(o, faults))
		}
	}
	l.Elapsed = time.Since(start)
	return l
}

// runUnits checks every unit, the largest first, GOMAXPROCS at once, until
// the deadline; a unit not started by then is undecided.
func runUnits(units []*unit, deadline time.Time) {
	order := slices.Clone(units)
	sort.SliceStable(order, func(i, j int) bool { return len(order[i].ops) > len(order[j].ops) })
	work := make(chan *unit)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(units)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range work {
				left := time.Until(deadline)
				if left <= 0 {
					u.result = porcupine.Unknown
					continue
				}
				u.result, u.info = porcupine.CheckOperationsVerbose(u.model, u.ops, left)
				u.ran = true
			}
		}()
	}
	for _, u := range order {
		work <- u
	}
	close(work)
	wg.Wait()
}

// kvUnits partitions the KV calls and makes each partition a unit; end is
// where calls of unknown outcome return (after every other call).
func kvUnits(ops []Operation, o checkOptions, faults []FaultWindow) ([]*unit, int64) {
	var calls []*kvCall
	var end int64
	for i, op := range ops {
		op.Return = max(op.Return, op.Call)
		end = max(end, int64(op.Return))
		switch {
		case op.Outcome == Failed:
		case op.Outcome == Unknown || op.Response == nil:
			if op.Request.Writes() {
				calls = append(calls, &kvCall{op: op, index: i, unknown: true, anon: -1})
			}
		default:
			calls = append(calls, &kvCall{op: op, index: i, anon: -1})
		}
	}
	end++
	names := historyKeys(calls)
	groups := partition(calls, names)
	writes := writeCalls(calls)
	units := make([]*unit, 0, len(groups))
	for _, g := range groups {
		units = append(units, kvUnit(g.keys, g.calls, o, end, writes, faults))
	}
	return units, end
}

// historyKeys are the single keys the calls name, in requests and answers,
// sorted.
func historyKeys(calls []*kvCall) []string {
	seen := map[string]bool{}
	for _, c := range calls {
		for _, k := range c.op.Request.Keys() {
			seen[k] = true
		}
		if r := c.op.Response; r != nil {
			for _, res := range r.Results {
				for _, kv := range res.KVs {
					seen[kv.Key] = true
				}
				for _, kv := range res.PrevKVs {
					seen[kv.Key] = true
				}
			}
		}
	}
	names := make([]string, 0, len(seen))
	for k := range seen {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// coveredKeys are the indexes of the names (sorted) that key, or the range
// [key, end), covers.
func coveredKeys(names []string, key, end string) []int {
	if end == "" {
		i := sort.SearchStrings(names, key)
		if i < len(names) && names[i] == key {
			return []int{i}
		}
		return nil
	}
	lo, hi := sort.SearchStrings(names, key), len(names)
	if end != "\x00" {
		hi = max(lo, sort.SearchStrings(names, end))
	}
	idx := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		idx = append(idx, i)
	}
	return idx
}

// touched are the indexes of the names a call's compares and operations
// (either branch) cover.
func touched(c *kvCall, names []string) []int {
	var idx []int
	r := c.op.Request
	for _, cmp := range r.Compares {
		idx = append(idx, coveredKeys(names, cmp.Key, cmp.End)...)
	}
	for _, ops := range [][]Op{r.Then, r.Else} {
		for _, op := range ops {
			idx = append(idx, coveredKeys(names, op.Key, op.End)...)
		}
	}
	slices.Sort(idx)
	return slices.Compact(idx)
}

type group struct {
	keys  []string
	calls []*kvCall
}

// partition groups the calls by the keys they touch together (union-find
// over the keys); a call that touches no named key is left out (a range
// over keys the history never names has nothing to be checked against).
func partition(calls []*kvCall, names []string) []group {
	parent := make([]int, len(names))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	touches := make([][]int, len(calls))
	for i, c := range calls {
		touches[i] = touched(c, names)
		for _, j := range touches[i][min(1, len(touches[i])):] {
			parent[find(j)] = find(touches[i][0])
		}
	}
	byRoot := map[int]*group{}
	var order []int
	for j, name := range names {
		r := find(j)
		g := byRoot[r]
		if g == nil {
			g = &group{}
			byRoot[r] = g
			order = append(order, r)
		}
		g.keys = append(g.keys, name)
	}
	for i, c := range calls {
		if len(touches[i]) > 0 {
			g := byRoot[find(touches[i][0])]
			g.calls = append(g.calls, c)
		}
	}
	groups := make([]group, 0, len(order))
	for _, r := range order {
		if g := byRoot[r]; len(g.calls) > 0 {
			groups = append(groups, *g)
		}
	}
	return groups
}

type keyRev struct {
	key string
	rev int64
}

// writeCalls maps each key-value a known write made (key and revision) to
// when that write was called: a stale read showing it cannot come before.
func writeCalls(calls []*kvCall) map[keyRev]time.Duration {
	m := map[keyRev]time.Duration{}
	for _, c := range calls {
		if c.unknown {
			continue
		}
		branch := c.op.Request.Then
		if c.op.Request.Txn && !c.op.Response.Succeeded {
			branch = c.op.Request.Else
		}
		for _, op := range branch {
			if op.Type == OpPut {
				m[keyRev{op.Key, c.op.Response.Revision}] = c.op.Call
			}
		}
	}
	return m
}

// kvUnit makes one partition's calls porcupine operations, with local key
// indexes resolved.
func kvUnit(keys []string, calls []*kvCall, o checkOptions, end int64, writes map[keyRev]time.Duration, faults []FaultWindow) *unit {
	local := func(key, rangeEnd string) []int { return coveredKeys(keys, key, rangeEnd) }
	u := &unit{keys: keys, kv: true, model: kvModel(keys, anonClasses(calls)), ops: make([]porcupine.Operation, 0, len(calls))}
	for _, c := range calls {
		r := c.op.Request
		var expand []int
		c.cmps = make([][]int, len(r.Compares))
		for i, cmp := range r.Compares {
			c.cmps[i] = local(cmp.Key, cmp.End)
			expand = append(expand, c.cmps[i]...)
		}
		resolve := func(ops []Op) [][]int {
			idx := make([][]int, len(ops))
			for i, op := range ops {
				idx[i] = local(op.Key, op.End)
				if op.Type == OpPut {
					expand = append(expand, idx[i]...)
				}
			}
			return idx
		}
		c.then, c.els = resolve(r.Then), resolve(r.Else)
		slices.Sort(expand)
		c.expand = slices.Compact(expand)
		call, ret := int64(c.op.Call), int64(c.op.Return)
		if c.unknown {
			ret = end
		}
		if isStale(r, o) {
			c.stale = true
			call = int64(staleFrom(c.op, writes))
		}
		u.ops = append(u.ops, porcupine.Operation{ClientId: c.op.Client, Input: c, Call: call, Return: ret, Metadata: callNote(c, faults)})
	}
	return u
}

// anonClasses sorts a partition's anonymous writes into classes, setting
// each one's anon and seq, and returns how many classes there are.
//
// An anonymous write is a plain Put of unknown outcome whose value no call
// of the partition shows (no Get or PrevKV returns it, no compare names
// it, none orders values of its key), or a plain single-key Delete of
// unknown outcome. Within a class — one key, and for a Put one lease and
// the same ignore flags — no call can tell whose effect it sees, so any
// order that places some of them can place instead the earliest called,
// in the order they were called (each was called before the one it
// stands in for). The model lets the i-th of a class take its place only
// after the i-1 before it: n such writes leave porcupine n+1 choices where
// it had 2^n subsets, which is what makes writes of unknown outcome, the
// common case under faults, affordable. Writes of unknown outcome that
// some call may have seen are checked one by one.
func anonClasses(calls []*kvCall) int {
	anonymous := unseenWrites(calls)
	classes := map[Op][]*kvCall{}
	var order []Op
	for _, c := range calls {
		r := c.op.Request
		if !c.unknown || r.Txn || len(r.Then) != 1 || r.Then[0].End != "" || !anonymous(r.Then[0]) {
			continue
		}
		op := r.Then[0]
		class := Op{Type: op.Type, Key: op.Key}
		if op.Type == OpPut {
			class.Lease, class.IgnoreValue, class.IgnoreLease = op.Lease, op.IgnoreValue, op.IgnoreLease
		}
		if classes[class] == nil {
			order = append(order, class)
		}
		classes[class] = append(classes[class], c)
	}
	for i, class := range order {
		members := classes[class]
		slices.SortStableFunc(members, func(a, b *kvCall) int { return cmpInt(int64(a.op.Call), int64(b.op.Call)) })
		for seq, c := range members {
			c.anon, c.seq = i, int32(seq)
		}
	}
	return len(order)
}

// unseenWrites returns whether no call of the partition can tell a write
// op's effect from another's: a Delete, or a Put whose value no call shows
// (a Get or PrevKV returning it, a compare naming it) and whose key's values
// no compare orders.
func unseenWrites(calls []*kvCall) func(op Op) bool {
	type valueCmp struct {
		Compare
		ordered bool
	}
	var ranged []valueCmp
	orderedKeys := map[string]bool{}
	shown := map[[2]string]bool{} // key and value: what some call shows or compares with
	for _, c := range calls {
		for _, cmp := range c.op.Request.Compares {
			if cmp.Target != CompareValue {
				continue
			}
			ordered := cmp.Result == "<" || cmp.Result == ">"
			switch {
			case cmp.End != "":
				ranged = append(ranged, valueCmp{cmp, ordered})
			case ordered:
				orderedKeys[cmp.Key] = true
			default:
				shown[[2]string{cmp.Key, cmp.Value}] = true
			}
		}
		if r := c.op.Response; r != nil {
			for _, res := range r.Results {
				for _, kv := range append(slices.Clip(res.KVs), res.PrevKVs...) {
					shown[[2]string{kv.Key, kv.Value}] = true
				}
			}
		}
	}
	return func(op Op) bool {
		if op.Type == OpDelete {
			return true
		}
		if orderedKeys[op.Key] || shown[[2]string{op.Key, op.Value}] {
			return false
		}
		for _, rc := range ranged {
			if inRange(op.Key, rc.Key, rc.End) && (rc.ordered || rc.Value == op.Value) {
				return false
			}
		}
		return true
	}
}

// isStale says whether a request is a plain Get that only has to return a
// state that existed: at a past revision, or serializable when stale
// serializable reads are allowed.
func isStale(r Request, o checkOptions) bool {
	if r.Txn || len(r.Then) != 1 || r.Then[0].Type != OpGet {
		return false
	}
	op := r.Then[0]
	return op.Revision != 0 || (op.Serializable && o.staleSerializable)
}

// staleFrom is the earliest a stale read can take its place: after the
// calls of the known writes that made what it shows.
func staleFrom(op Operation, writes map[keyRev]time.Duration) time.Duration {
	var from time.Duration
	if op.Response == nil || len(op.Response.Results) == 0 {
		return 0
	}
	for _, kv := range op.Response.Results[0].KVs {
		if at, ok := writes[keyRev{kv.Key, kv.ModRevision}]; ok {
			from = max(from, at)
		}
	}
	return min(from, op.Call)
}

// callNote is the tooltip of a call in the picture: when, and the faults
// in force.
func callNote(c *kvCall, faults []FaultWindow) string {
	s := fmt.Sprintf("client %d, %s..%s", c.op.Client, fmtAt(c.op.Call), fmtAt(c.op.Return))
	if c.unknown {
		s += ", outcome unknown: it may take effect at any point after its call, or never"
	}
	if c.stale {
		s += ", checked to return a state that existed before it returned"
	}
	if fs := inForce(faults, c.op.Call, c.op.Return); len(fs) > 0 {
		s += "; faults in force: " + describeFaults(fs)
	}
	return s
}

// apiUnits makes each partition of an API's calls (its model's Partition,
// if any) a unit.
func apiUnits(a *API) []*unit {
	model := a.Model()
	ops := a.Operations()
	parts := [][]porcupine.Operation{ops}
	if model.Partition != nil {
		parts = model.Partition(ops)
	}
	model.Partition, model.PartitionEvent = nil, nil
	units := make([]*unit, 0, len(parts))
	for _, p := range parts {
		if len(p) > 0 {
			units = append(units, &unit{api: a.Name(), model: model, ops: p})
		}
	}
	return units
}

// violation explains a unit that was not ordered: the longest order found,
// the state it ends in, and the calls that could come next.
func (u *unit) violation(o checkOptions, faults []FaultWindow) Violation {
	v := Violation{Keys: u.keys, API: u.api, Undecided: u.result != porcupine.Illegal, Operations: len(u.ops)}
	clients := map[int]bool{}
	for _, op := range u.ops {
		clients[op.ClientId] = true
		if u.unknownOp(op) {
			v.Unknown++
		}
	}
	v.Clients = len(clients)
	prefix := u.longest()
	for len(prefix) > 0 && u.unknownOp(u.ops[prefix[len(prefix)-1]]) {
		prefix = prefix[:len(prefix)-1]
	}
	v.Ordered = len(prefix)
	state := u.replay(prefix)
	v.State = describeState(u.model, state)
	for _, i := range u.frontier(prefix) {
		f := u.unordered(u.ops[i], state, faults)
		if f.Serializable && !o.staleSerializable {
			v.Serializable = true
		}
		v.Frontier = append(v.Frontier, f)
	}
	return v
}

// longest is the longest partial order porcupine found (the first, in id
// order, of the longest).
func (u *unit) longest() []int {
	var best []int
	if !u.ran {
		return nil
	}
	for _, part := range u.info.PartialLinearizations() {
		for _, p := range part {
			if len(p) > len(best) || (len(p) == len(best) && slices.Compare(p, best) < 0) {
				best = p
			}
		}
	}
	return best
}

func (u *unit) unknownOp(op porcupine.Operation) bool {
	if c, ok := op.Input.(*kvCall); ok {
		return c.unknown
	}
	return op.Metadata == "outcome unknown"
}

// replay steps the model through the calls of prefix.
func (u *unit) replay(prefix []int) any {
	step := stepOf(u.model)
	state := u.model.Init()
	for _, i := range prefix {
		ok, next := step(state, u.ops[i].Input, u.ops[i].Output)
		if !ok {
			break // cannot happen: porcupine found this order
		}
		state = next
	}
	return state
}

// frontier are the calls not in prefix that could take the next place:
// called before the earliest return among them (calls of unknown outcome,
// which return at the end, last).
func (u *unit) frontier(prefix []int) []int {
	in := make(map[int]bool, len(prefix))
	for _, i := range prefix {
		in[i] = true
	}
	first := int64(-1)
	for i, op := range u.ops {
		if !in[i] && !u.unknownOp(op) && (first < 0 || op.Return < first) {
			first = op.Return
		}
	}
	var known, unknown []int
	for i, op := range u.ops {
		if in[i] || (first >= 0 && op.Call > first) {
			continue
		}
		if u.unknownOp(op) {
			unknown = append(unknown, i)
		} else {
			known = append(known, i)
		}
	}
	byCall := func(a, b int) int { return cmpInt(u.ops[a].Call, u.ops[b].Call) }
	slices.SortStableFunc(known, byCall)
	slices.SortStableFunc(unknown, byCall)
	return append(known, unknown...)
}

// unordered describes one frontier call.
func (u *unit) unordered(op porcupine.Operation, state any, faults []FaultWindow) Unordered {
	f := Unordered{Client: op.ClientId, Call: time.Duration(op.Call), Return: time.Duration(op.Return), Unknown: u.unknownOp(op)}
	if c, ok := op.Input.(*kvCall); ok {
		f.Call, f.Return = c.op.Call, c.op.Return
		f.What = describeCall(c.op)
		r := c.op.Request
		f.Serializable = !r.Txn && len(r.Then) == 1 && r.Then[0].Type == OpGet && r.Then[0].Serializable
		if !f.Unknown {
			f.Why = whyNot(u.keys, state.(*kvSet), c)
		}
	} else {
		f.What = describeOperation(u.model, op.Input, op.Output)
		if ok, _ := stepOf(u.model)(state, op.Input, op.Output); !ok && !f.Unknown {
			f.Why = "the model refuses it"
		}
	}
	f.Faults = inForce(faults, f.Call, f.Return)
	return f
}

func stepOf(m porcupine.Model) func(state, in, out any) (bool, any) {
	if m.Step != nil {
		return m.Step
	}
	return func(state, in, out any) (bool, any) { return m.StepContext(context.Background(), state, in, out) }
}

func describeState(m porcupine.Model, s any) string {
	if m.DescribeState != nil {
		return m.DescribeState(s)
	}
	return fmt.Sprintf("%v", s)
}

func describeOperation(m porcupine.Model, in, out any) string {
	if m.DescribeOperation != nil {
		return m.DescribeOperation(in, out)
	}
	return fmt.Sprintf("%v -> %v", in, out)
}

// inForce are the fault windows that overlap [from, to]; a window never
// healed (End 0) lasts to the end.
func inForce(faults []FaultWindow, from, to time.Duration) []FaultWindow {
	var fs []FaultWindow
	for _, w := range faults {
		if w.Start <= to && (w.End == 0 || w.End >= from) {
			fs = append(fs, w)
		}
	}
	return fs
}

func describeFaults(fs []FaultWindow) string {
	parts := make([]string, len(fs))
	for i, w := range fs {
		end := "never healed"
		if w.End != 0 {
			end = fmtAt(w.End)
		}
		parts[i] = fmt.Sprintf("%s (%s..%s)", w.What, fmtAt(w.Start), end)
	}
	return strings.Join(parts, ", ")
}

// maxShown caps the violations, and the calls per violation, a message
// spells out.
const maxShown = 8

// String is the verdict for a failure message: per failing partition, its
// keys, the longest order found and its state, and the calls that cannot
// come next — client, what, when, why not, the faults in force.
func (l Linearizability) String() string {
	if l.OK() {
		return fmt.Sprintf("linearizable: %s in %s, checked in %s", plural(l.Operations, "operation"), plural(l.Partitions, "partition"), roundElapsed(l.Elapsed))
	}
	var b strings.Builder
	undecided := 0
	for _, v := range l.Violations {
		if v.Undecided {
			undecided++
		}
	}
	var verdict []string
	if n := len(l.Violations) - undecided; n > 0 {
		verdict = append(verdict, fmt.Sprintf("%d cannot be ordered", n))
	}
	if undecided > 0 {
		verdict = append(verdict, fmt.Sprintf("%d undecided after %s", undecided, l.Timeout))
	}
	fmt.Fprintf(&b, "not linearizable: of %s, %s (%s, checked in %s)\n",
		plural(l.Partitions, "partition"), strings.Join(verdict, " and "), plural(l.Operations, "operation"), roundElapsed(l.Elapsed))
	for i, v := range l.Violations {
		if i == maxShown {
			fmt.Fprintf(&b, "\n... and %d more: %s\n", len(l.Violations)-i, l.rest(i))
			break
		}
		b.WriteString("\n")
		v.write(&b, l.Timeout, len(l.Faults) > 0)
	}
	return strings.TrimRight(b.String(), "\n")
}

func (l Linearizability) rest(from int) string {
	var names []string
	for _, v := range l.Violations[from:] {
		names = append(names, v.subject())
	}
	return strings.Join(names, "; ")
}

func roundElapsed(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(10 * time.Microsecond)
}

// subject names the partition: `key "/k"`, `keys "/a", "/b"`, `API "bank"`.
func (v Violation) subject() string {
	if v.API != "" {
		return fmt.Sprintf("API %q", v.API)
	}
	qs := make([]string, 0, min(len(v.Keys), 5))
	for _, k := range v.Keys[:min(len(v.Keys), 5)] {
		qs = append(qs, quote(k))
	}
	s := strings.Join(qs, ", ")
	if len(v.Keys) > 5 {
		s += fmt.Sprintf(" and %d more", len(v.Keys)-5)
	}
	if len(v.Keys) == 1 {
		return "key " + s
	}
	return "keys " + s
}

func (v Violation) write(b *strings.Builder, timeout time.Duration, faults bool) {
	calls := "operation"
	if v.API != "" {
		calls = "call"
	}
	unknown := ""
	if v.Unknown > 0 {
		unknown = fmt.Sprintf(", %d of unknown outcome", v.Unknown)
	}
	if v.Undecided {
		fmt.Fprintf(b, "%s: %s from %s%s: undecided after %s\n", v.subject(), plural(v.Operations, calls), plural(v.Clients, "client"), unknown, timeout)
		fmt.Fprintf(b, "  porcupine could neither order them nor prove there is no order in time (the longest order it found holds %d)\n", v.Ordered)
		b.WriteString("  to decide it, shrink the history: fewer operations per key (spread them over more keys), fewer concurrent clients, fewer calls of unknown outcome, a shorter run — or raise CheckTimeout\n")
		b.WriteString("  where the search stood:\n")
	} else {
		fmt.Fprintf(b, "%s: no order of its %s (from %s%s) explains what they returned\n", v.subject(), plural(v.Operations, calls), plural(v.Clients, "client"), unknown)
	}
	fmt.Fprintf(b, "  the longest order found holds %d of them and ends in: %s\n", v.Ordered, v.State)
	b.WriteString("  none of those that could come next can follow it:\n")
	for i, f := range v.Frontier {
		if i == maxShown {
			fmt.Fprintf(b, "    ... and %d more\n", len(v.Frontier)-i)
			break
		}
		f.write(b, faults)
	}
	if v.Serializable {
		b.WriteString("  the read was serializable: it may be served stale by a member cut off from the leader; AllowStaleSerializable() accepts that\n")
	}
}

func (f Unordered) write(b *strings.Builder, faults bool) {
	fmt.Fprintf(b, "    client %d %s..%s: %s\n", f.Client, fmtAt(f.Call), fmtAt(f.Return), f.What)
	switch {
	case f.Unknown:
		b.WriteString("      (outcome unknown: it may take effect here, later, or never — none of which helps)\n")
	case f.Why != "":
		fmt.Fprintf(b, "      cannot follow: %s\n", f.Why)
	}
	switch {
	case len(f.Faults) > 0:
		fmt.Fprintf(b, "      faults in force: %s\n", describeFaults(f.Faults))
	case faults:
		b.WriteString("      no fault in force\n")
	}
}

var htmlSeq atomic.Int64

// pictureBudget bounds how long SaveHTML may spend re-checking several
// partitions to draw them together when one of them was undecided.
const pictureBudget = 5 * time.Second

// SaveHTML writes porcupine's picture of the check — the failing
// partitions, or every partition when none failed — to a new file in dir
// ("" means $CHAOS_ARTIFACTS, else the working directory) and returns its
// path. Each partition is a lane per client with its calls; the fault
// windows are annotations (tag "faults"). Drawing several partitions checks
// them again, within the check's timeout (5 s when one was undecided).
func (l Linearizability) SaveHTML(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv(EnvArtifacts)
	}
	if dir == "" {
		dir = "."
	}
	fail := func(err error) (string, error) {
		return "", fmt.Errorf("chaos: write the linearizability picture: %w (set %s to a writable directory)", err, EnvArtifacts)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(err)
	}
	name := fmt.Sprintf("chaos-linearizability-%s-%d-%d.html", l.at.Format("20060102-150405"), os.Getpid(), htmlSeq.Add(1))
	path := filepath.Join(dir, name)
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	model, info := l.picture()
	info.AddAnnotations(l.annotations())
	f, err := os.Create(path)
	if err != nil {
		return fail(err)
	}
	if err := porcupine.Visualize(model, info, f); err != nil {
		f.Close()
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	return path, nil
}

// picture is the model and linearization info to draw: a unit's own when
// there is one to draw, else one check of them all under a model that
// dispatches to each unit's.
func (l Linearizability) picture() (porcupine.Model, porcupine.LinearizationInfo) {
	var units []*unit
	budget := l.Timeout
	for _, u := range l.units {
		if u.result != porcupine.Ok {
			units = append(units, u)
			if u.result == porcupine.Unknown {
				budget = min(budget, pictureBudget)
			}
		}
	}
	if len(units) == 0 {
		units = l.units
	}
	if len(units) == 1 && units[0].ran {
		return units[0].model, units[0].info
	}
	model, ops := combined(units)
	_, info := porcupine.CheckOperationsVerbose(model, ops, budget)
	return model, info
}

// tagged is a call of one of several units drawn together, and ustate a
// state of that unit's model.
type tagged struct {
	unit int
	in   any
}

type ustate struct {
	unit  int
	state any
}

// combined is one model over several units (each a partition of it), and
// their calls.
func combined(units []*unit) (porcupine.Model, []porcupine.Operation) {
	var ops []porcupine.Operation
	parts := make([][]porcupine.Operation, len(units))
	for i, u := range units {
		for _, op := range u.ops {
			op.Input = tagged{i, op.Input}
			parts[i] = append(parts[i], op)
		}
		ops = append(ops, parts[i]...)
	}
	of := func(s any) (ustate, bool) { us, ok := s.(ustate); return us, ok }
	model := porcupine.Model{
		Partition: func([]porcupine.Operation) [][]porcupine.Operation { return parts },
		Init:      func() any { return nil },
		Step: func(state, in, out any) (bool, any) {
			t := in.(tagged)
			m := units[t.unit].model
			s, ok := of(state)
			if !ok {
				s = ustate{t.unit, m.Init()}
			}
			ok, next := stepOf(m)(s.state, t.in, out)
			return ok, ustate{t.unit, next}
		},
		Equal: func(a, b any) bool {
			x, okx := of(a)
			y, oky := of(b)
			if !okx || !oky || x.unit != y.unit {
				return !okx && !oky
			}
			if eq := units[x.unit].model.Equal; eq != nil {
				return eq(x.state, y.state)
			}
			return x.state == y.state
		},
		Hash: func(s any) uint64 {
			us, ok := of(s)
			if !ok {
				return 0
			}
			if h := units[us.unit].model.Hash; h != nil {
				return h(us.state)
			}
			return uint64(us.unit)
		},
		DescribeOperation: func(in, out any) string {
			t := in.(tagged)
			return describeOperation(units[t.unit].model, t.in, out)
		},
		DescribeState: func(s any) string {
			us, ok := of(s)
			if !ok {
				return "initial state"
			}
			return describeState(units[us.unit].model, us.state)
		},
	}
	return model, ops
}

// annotations are the fault windows, for the picture.
func (l Linearizability) annotations() []porcupine.Annotation {
	as := make([]porcupine.Annotation, 0, len(l.Faults))
	for _, w := range l.Faults {
		end := int64(w.End)
		if w.End == 0 {
			end = l.end
		}
		as = append(as, porcupine.Annotation{
			Tag: "faults", Start: int64(w.Start), End: end, Description: w.What,
			Details:         fmt.Sprintf("%s, %s..%s", w.What, fmtAt(w.Start), fmtAt(time.Duration(end))),
			BackgroundColor: "#e0e0e0",
		})
	}
	return as
}
