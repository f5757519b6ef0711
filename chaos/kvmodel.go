package chaos

// The model of etcd's KV that CheckLinearizable gives porcupine, one
// instance per partition (one key, or the keys that multi-key operations
// join). A state is what a client could know of those keys at one point of
// an order: per key whether it exists, its value, lease, create and mod
// revisions and version, and the floor every later write's revision must
// exceed (the key's last write and every revision it was read at: a Get
// served at revision H saw every write up to H). The model is exact where
// the history is and no more: what no operation has told yet is held as a
// bound, and the first operation that tells it fixes it.
//
//   - A key starts "not yet observed": its state before recording began is
//     unknown (a suite may seed data first), and the first operation that
//     observes it fixes it. A read that contradicts an earlier completed
//     write is still caught: that write fixed the state.
//   - A write of unknown outcome takes effect with a revision no one saw:
//     any revision above the key's floor. The mod revision is then a bound
//     until a read shows it.
//   - A key written with a lease may vanish at any point after that write
//     (the lease was revoked or expired, which etcd does not tell its
//     clients): a Get that finds it absent, or a Delete that deletes
//     nothing, is accepted, and the key is absent from then on until the
//     next write. The vanishing takes a revision of its own.
//   - Keys the history never names are invisible: a count over a range
//     (CountOnly, Limit, a range Delete's Deleted) may include them, so it is
//     checked as a lower bound; a ranged Compare is evaluated on the named
//     keys.
//
// Where a call leaves a choice open (a Put on a key not yet observed
// created it or overwrote it; a leased key was still there or had
// vanished; a transaction of unknown outcome took either branch), the
// state is the set of the possibilities (kvSet), most of the time one.
// Stepping is on porcupine's hot path: a failure costs no allocation, and
// the reason is worded only when a violation is explained (stepper.explain).

import (
	"fmt"
	"hash/maphash"
	"math/bits"
	"slices"
	"strings"

	"github.com/anishathalye/porcupine"
)

type existence uint8

const (
	unseen  existence = iota // not yet observed: whatever it was before recording
	absent                   //
	present                  //
)

// fields says which fields of a present key are known exactly; the others
// are bounds (create, mod, version) or anything (value, lease).
type fields uint8

const (
	knowValue fields = 1 << iota
	knowLease
	knowCreate
	knowMod
	knowVersion
)

// keyState is what the model knows of one key at one point of an order.
// Its zero value is a key not yet observed. It is comparable, so stores
// compare with == and hash with maphash.
type keyState struct {
	exists existence
	known  fields
	value  string
	// hidden: the value is one no call shows — written by a write of
	// unknown outcome whose value no read returned (see kvCall.anon).
	hidden bool
	lease  int64
	// create is the create revision or, not known, its lowest possible
	// value; createMax, when not 0, its highest.
	create, createMax int64
	// mod is the revision of the key's last write — for an absent key, the
	// delete that removed it (0 when that is unknown) — or, not known, its
	// lowest possible value.
	mod int64
	// version is the version or, not known, its lowest possible value.
	version int64
	// floor is what every later write of the key must exceed: the last
	// write's revision and every revision the key was read at.
	floor int64
}

func (k keyState) knows(f fields) bool { return k.known&f != 0 }

// mayVanish says whether k may be gone without a delete: its lease (known
// or not) may have ended.
func (k keyState) mayVanish() bool {
	return k.exists == present && (!k.knows(knowLease) || k.lease != 0)
}

// vanished is k after its lease ended: absent, deleted at a revision above
// everything seen of it.
func (k keyState) vanished() keyState {
	return keyState{exists: absent, mod: k.floor + 1, floor: k.floor + 1}
}

// assumedAbsent and assumedPresent resolve a key not yet observed.
func (k keyState) assumedAbsent() keyState { return keyState{exists: absent, floor: k.floor} }
func (k keyState) assumedPresent() keyState {
	return keyState{exists: present, create: 1, mod: 1, version: 1, floor: k.floor}
}

// alternatives are the states k may really be in, for an operation whose
// answer does not tell (a Put, a Compare).
func (k keyState) alternatives() []keyState {
	switch {
	case k.exists == unseen:
		return []keyState{k.assumedAbsent(), k.assumedPresent()}
	case k.mayVanish():
		return []keyState{k, k.vanished()}
	}
	return nil // just k
}

// stepper steps a store through one call. With explain set it words why a
// call cannot follow (why); without, failing costs nothing.
type stepper struct {
	names   []string // the partition's keys, by local index
	explain bool
	why     string
}

// fail records the first reason (when explaining) and returns false.
func (st *stepper) fail(why func() string) bool {
	if st.explain && st.why == "" {
		st.why = why()
	}
	return false
}

// present resolves key j to existing (an answer showed it).
func (st *stepper) present(keys []keyState, j int) bool {
	switch keys[j].exists {
	case unseen:
		keys[j] = keys[j].assumedPresent()
	case absent:
		return st.fail(func() string {
			return fmt.Sprintf("%s is %s by then", quote(st.names[j]), describeKey(keys[j]))
		})
	}
	return true
}

// absent resolves key j to missing (an answer did not show it).
func (st *stepper) absent(keys []keyState, j int) bool {
	k := keys[j]
	switch {
	case k.exists == unseen:
		keys[j] = k.assumedAbsent()
	case k.exists == absent:
	case k.mayVanish():
		keys[j] = k.vanished()
	default:
		return st.fail(func() string {
			return fmt.Sprintf("%s is %s by then (and has no lease that could have ended)", quote(st.names[j]), describeKey(k))
		})
	}
	return true
}

// readAt notes that key j was read at revision h: it must not have been
// written after h, and later writes come after h.
func (st *stepper) readAt(keys []keyState, j int, h int64) bool {
	k := keys[j]
	if h <= 0 {
		return true
	}
	if k.exists != unseen && h < k.mod {
		return st.fail(func() string {
			what := "was written"
			if k.exists == absent {
				what = "was deleted"
			}
			if !k.knows(knowMod) {
				what += " after"
			} else {
				what += " at"
			}
			return fmt.Sprintf("served at rev %d, but %s %s rev %d before it", h, quote(st.names[j]), what, k.mod)
		})
	}
	keys[j].floor = max(k.floor, h)
	return true
}

// observe checks a key-value an answer showed against present key j, and
// fixes what was not known yet.
func (st *stepper) observe(keys []keyState, j int, kv KV, keysOnly bool) bool {
	k := keys[j]
	bare := keysOnly && kv.CreateRevision == 0 && kv.ModRevision == 0 && kv.Version == 0
	if !bare && (kv.Version < 1 || kv.CreateRevision < 1 || kv.CreateRevision > kv.ModRevision || (kv.Version == 1) != (kv.CreateRevision == kv.ModRevision)) {
		return st.fail(func() string {
			return fmt.Sprintf("etcd never answers %s: its revisions are inconsistent", describeKV(kv))
		})
	}
	mismatch := func(what string) bool {
		return st.fail(func() string {
			return fmt.Sprintf("%s is %s by then, not %s (%s differs)", quote(st.names[j]), describeKey(keys[j]), describeKV(kv), what)
		})
	}
	if !keysOnly {
		if k.hidden || (k.knows(knowValue) && k.value != kv.Value) {
			return mismatch("value")
		}
		k.value, k.known = kv.Value, k.known|knowValue
	}
	if k.knows(knowLease) && k.lease != kv.Lease {
		return mismatch("lease")
	}
	k.lease, k.known = kv.Lease, k.known|knowLease
	if bare {
		keys[j] = k
		return true
	}
	if !fixed(&k.mod, 0, k.knows(knowMod), kv.ModRevision) {
		return mismatch("mod revision")
	}
	if !fixed(&k.version, 0, k.knows(knowVersion), kv.Version) {
		return mismatch("version")
	}
	if !fixed(&k.create, k.createMax, k.knows(knowCreate), kv.CreateRevision) {
		return mismatch("create revision")
	}
	k.known |= knowMod | knowVersion | knowCreate
	k.createMax = 0
	k.floor = max(k.floor, k.mod)
	keys[j] = k
	return true
}

// fixed sets *field to seen if it can be: equal when exact, else within
// [*field, hi] (hi 0: no upper bound).
func fixed(field *int64, hi int64, exact bool, seen int64) bool {
	if exact {
		return *field == seen
	}
	if seen < *field || (hi > 0 && seen > hi) {
		return false
	}
	*field = seen
	return true
}

// put writes op to key j (present or absent, not unseen) at revision rev;
// rev 0 is a write of unknown outcome: some revision above the floor.
// hidden: no call shows the value it writes.
func (st *stepper) put(keys []keyState, j int, op Op, rev int64, hidden bool) bool {
	k := keys[j]
	if rev != 0 && rev <= k.floor {
		return st.fail(func() string {
			return fmt.Sprintf("its rev %d is not above rev %d, at which %s was already written or read", rev, k.floor, quote(st.names[j]))
		})
	}
	if k.exists != present && (op.IgnoreValue || op.IgnoreLease) {
		return st.fail(func() string {
			return fmt.Sprintf("%s does not exist by then, and etcd refuses a put that keeps the value or lease of a missing key", quote(st.names[j]))
		})
	}
	n := k
	if k.exists == present {
		n.version++
		if !k.knows(knowCreate) && rev != 0 && (k.createMax == 0 || k.createMax >= rev) {
			n.createMax = rev - 1
		}
	} else {
		n = keyState{exists: present, version: 1, known: knowVersion, create: rev}
		if rev == 0 {
			n.create = k.floor + 1
		} else {
			n.known |= knowCreate
		}
	}
	if !op.IgnoreValue {
		n.value, n.hidden, n.known = op.Value, hidden, n.known|knowValue
	}
	if !op.IgnoreLease {
		n.lease, n.known = op.Lease, n.known|knowLease
	}
	n.mod, n.floor, n.known = writeRev(k, rev, n.known)
	keys[j] = n
	return true
}

// writeRev is the mod revision, floor and known fields after a write at
// rev (0: unknown) of key k.
func writeRev(k keyState, rev int64, known fields) (mod, floor int64, _ fields) {
	if rev == 0 {
		return k.floor + 1, k.floor + 1, known &^ knowMod
	}
	return rev, rev, known | knowMod
}

// remove deletes present key j at revision rev (0: unknown).
func (st *stepper) remove(keys []keyState, j int, rev int64) bool {
	k := keys[j]
	if rev != 0 && rev <= k.floor {
		return st.fail(func() string {
			return fmt.Sprintf("its rev %d is not above rev %d, at which %s was already written or read", rev, k.floor, quote(st.names[j]))
		})
	}
	n := keyState{exists: absent}
	n.mod, n.floor, n.known = writeRev(k, rev, 0)
	keys[j] = n
	return true
}

// A tri is a compare's truth on a state that may not be known.
type tri uint8

const (
	no tri = iota
	yes
	maybe
)

func truth(b bool) tri {
	if b {
		return yes
	}
	return no
}

func and(a, b tri) tri {
	switch {
	case a == no || b == no:
		return no
	case a == maybe || b == maybe:
		return maybe
	}
	return yes
}

// compareOne is c on one key, with etcd's rule for a missing key: a value
// compare is false, the others see 0.
func compareOne(k keyState, c Compare) tri {
	switch k.exists {
	case unseen:
		return maybe
	case absent:
		if c.Target == CompareValue {
			return no
		}
		return truth(holds(c.Result, cmpInt(0, c.Number)))
	}
	switch c.Target {
	case CompareValue:
		switch {
		case k.hidden && c.Result == "=":
			return no // a value no call shows is none a compare names
		case k.hidden && c.Result == "!=":
			return yes
		case k.hidden || !k.knows(knowValue):
			return maybe
		}
		return truth(holds(c.Result, strings.Compare(k.value, c.Value)))
	case CompareLease:
		if !k.knows(knowLease) {
			return maybe
		}
		return truth(holds(c.Result, cmpInt(k.lease, c.Number)))
	case CompareVersion:
		return compareBounded(k.version, 0, k.knows(knowVersion), c)
	case CompareCreate:
		return compareBounded(k.create, k.createMax, k.knows(knowCreate), c)
	case CompareMod:
		return compareBounded(k.mod, 0, k.knows(knowMod), c)
	}
	return maybe
}

// compareBounded is c on a number known exactly (lo) or within [lo, hi]
// (hi 0: no upper bound).
func compareBounded(lo, hi int64, exact bool, c Compare) tri {
	if exact {
		return truth(holds(c.Result, cmpInt(lo, c.Number)))
	}
	n := c.Number
	below := hi > 0 && hi < n // every possible value is < n
	above := lo > n           // every possible value is > n
	switch c.Result {
	case "=":
		if below || above {
			return no
		}
	case "!=":
		if below || above {
			return yes
		}
	case ">":
		if above {
			return yes
		}
		if hi > 0 && hi <= n {
			return no
		}
	case "<":
		if below {
			return yes
		}
		if lo >= n {
			return no
		}
	}
	return maybe
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// holds says whether a comparison's result (-1, 0, 1) satisfies op.
func holds(op string, r int) bool {
	switch op {
	case "=":
		return r == 0
	case "!=":
		return r != 0
	case "<":
		return r < 0
	case ">":
		return r > 0
	}
	return false
}

// compareAll is a Compare over the keys it covers: every existing key must
// satisfy it; with none, the missing-key rule.
func compareAll(keys []keyState, idx []int, c Compare) tri {
	if c.End == "" {
		return compareOne(keys[idx[0]], c)
	}
	r, some := yes, false
	for _, j := range idx {
		if keys[j].exists == absent {
			continue
		}
		some = true
		r = and(r, compareOne(keys[j], c))
	}
	if !some {
		return compareOne(keyState{exists: absent}, c)
	}
	return r
}

// pin fixes what a compare that must hold says exactly (an "=" on one key).
func pin(keys []keyState, idx []int, c Compare) {
	if c.End != "" || c.Result != "=" || keys[idx[0]].exists != present {
		return
	}
	k := &keys[idx[0]]
	switch c.Target {
	case CompareValue:
		k.value, k.known = c.Value, k.known|knowValue
	case CompareLease:
		k.lease, k.known = c.Number, k.known|knowLease
	case CompareVersion:
		k.version, k.known = c.Number, k.known|knowVersion
	case CompareCreate:
		k.create, k.createMax, k.known = c.Number, 0, k.known|knowCreate
	case CompareMod:
		k.mod, k.known = c.Number, k.known|knowMod
	}
}

// kvCall is one recorded KV call as porcupine's input, with the partition
// keys (local indexes, ascending) its compares and operations touch.
type kvCall struct {
	op      Operation
	index   int  // in History.Operations
	unknown bool // a write whose outcome is unknown
	// stale: a Get that only has to return a state that existed before it
	// returned (a past revision; serializable with AllowStaleSerializable).
	stale     bool
	cmps      [][]int
	then, els [][]int
	expand    []int // keys whose existence an answer may not tell: compared or put
	// anon is the class of a write of unknown outcome whose effect no call
	// can tell from another's of its class (-1 for none), and seq its place
	// in that class by call: see anonClasses.
	anon int
	seq  int32
}

// maxAlternatives bounds the states one call may fork a store into; keys
// of ranged compares are not forked beyond it (their compares then say
// "maybe").
const maxAlternatives = 64

// apply returns the stores s can become through c; none if c cannot
// follow s. A call of unknown outcome always can: if it could not take
// effect, it did not.
func (st *stepper) apply(s store, c *kvCall) []store {
	if c.anon >= 0 {
		return st.applyAnon(s, c)
	}
	var out []store
	alts := forks(s.keys, c.expand)
	for _, keys := range alts {
		if c.unknown {
			out = st.applyUnknown(s, keys, c, out)
			continue
		}
		if st.applyKnown(keys, c) {
			out = append(out, s.rehash(keys))
		}
	}
	if c.unknown && len(out) == 0 {
		out = append(out, s)
	}
	return out
}

// applyAnon steps s through an anonymous write: only in its turn (the
// ones of its class called before it have been placed), after which the
// next may follow.
func (st *stepper) applyAnon(s store, c *kvCall) []store {
	if s.anon[c.anon] != c.seq {
		return nil
	}
	var out []store
	for _, keys := range forks(s.keys, c.expand) {
		out = st.applyUnknown(s, keys, c, out)
	}
	if len(out) == 0 {
		out = append(out, s)
	}
	for i := range out {
		out[i] = out[i].bumped(c.anon)
	}
	return out
}

// forks are the copies of keys, one per combination of the alternatives
// of the keys in expand.
func forks(keys []keyState, expand []int) [][]keyState {
	out := [][]keyState{slices.Clone(keys)}
	for _, j := range expand {
		alts := keys[j].alternatives()
		if alts == nil || len(out)*len(alts) > maxAlternatives {
			continue
		}
		next := make([][]keyState, 0, len(out)*len(alts))
		for _, ks := range out {
			for i, a := range alts {
				c := ks
				if i > 0 {
					c = slices.Clone(ks)
				}
				c[j] = a
				next = append(next, c)
			}
		}
		out = next
	}
	return out
}

// applyKnown steps keys (in place) through a call that returned.
func (st *stepper) applyKnown(keys []keyState, c *kvCall) bool {
	req, resp := c.op.Request, c.op.Response
	rev := resp.Revision
	branch, idx, took := req.Then, c.then, true
	if req.Txn {
		took = resp.Succeeded
		if !took {
			branch, idx = req.Else, c.els
		}
	}
	writes := branchWrites(branch, resp.Results)
	readRev := rev // the revision the branch's reads see
	if writes {
		readRev = rev - 1
	}
	if len(req.Compares) > 0 {
		r := yes
		for i, cmp := range req.Compares {
			for _, j := range c.cmps[i] {
				if !st.readAt(keys, j, readRev) {
					return false
				}
			}
			r = and(r, compareAll(keys, c.cmps[i], cmp))
		}
		if r != maybe && (r == yes) != took {
			return st.fail(func() string {
				return fmt.Sprintf("its compares are %v by then, but it took the %s branch", r == yes, branchName(took))
			})
		}
		if took {
			for i, cmp := range req.Compares {
				pin(keys, c.cmps[i], cmp)
			}
		}
	}
	var written []int // keys this call wrote: its own reads of them see rev
	for i, op := range branch {
		var res *Result
		if i < len(resp.Results) {
			res = &resp.Results[i]
		}
		ok := true
		switch op.Type {
		case OpGet:
			served := readRev
			switch {
			case op.Revision != 0 && req.Txn:
				continue // a past revision inside a transaction: not modelled
			case op.Revision != 0:
				served = op.Revision
			}
			ok = st.get(keys, idx[i], op, res, served, rev, written)
		case OpPut:
			ok = st.putOp(keys, idx[i][0], op, res, rev)
			written = append(written, idx[i][0])
		case OpDelete:
			ok = st.deleteOp(keys, idx[i], op, res, rev)
			written = append(written, idx[i]...)
		}
		if !ok {
			return false
		}
	}
	return true
}

func branchName(then bool) string {
	if then {
		return "then"
	}
	return "else"
}

// branchWrites says whether a branch that returned results changed the
// store (and so took a revision of its own): a put, or a delete that
// deleted something.
func branchWrites(ops []Op, results []Result) bool {
	for i, op := range ops {
		switch {
		case op.Type == OpPut:
			return true
		case op.Type == OpDelete && i < len(results) && results[i].Deleted > 0:
			return true
		}
	}
	return false
}

// get checks a Get's answer against keys idx, read at served (rev for the
// keys this call wrote itself).
func (st *stepper) get(keys []keyState, idx []int, op Op, res *Result, served, rev int64, written []int) bool {
	at := func(j int) int64 {
		if slices.Contains(written, j) {
			return rev
		}
		return served
	}
	if res == nil {
		for _, j := range idx {
			if !st.readAt(keys, j, at(j)) {
				return false
			}
		}
		return true
	}
	if op.CountOnly {
		return st.count(keys, idx, op, res.Count, at)
	}
	for _, kv := range res.KVs {
		if kv.ModRevision > served && served > 0 {
			return st.fail(func() string {
				return fmt.Sprintf("etcd never answers %s at rev %d: it shows a write after the revision it was read at", describeKV(kv), served)
			})
		}
	}
	limited := op.Limit > 0 && int64(len(res.KVs)) >= op.Limit
	matched := 0
	for _, j := range idx {
		kv, found := findKV(res.KVs, st.names[j])
		ok := true
		switch {
		case found:
			matched++
			ok = st.present(keys, j) && st.observe(keys, j, kv, op.KeysOnly)
		case !limited:
			ok = st.absent(keys, j)
		}
		if !ok || !st.readAt(keys, j, at(j)) {
			return false
		}
	}
	if matched != len(res.KVs) {
		return st.fail(func() string { return "it returned a key outside what it asked for" })
	}
	return true
}

// count checks a CountOnly Get: exact on one key; on a range, at least
// the keys known to exist (keys the history never names may add to it).
func (st *stepper) count(keys []keyState, idx []int, op Op, n int64, at func(int) int64) bool {
	if op.End == "" {
		j := idx[0]
		var ok bool
		switch n {
		case 0:
			ok = st.absent(keys, j)
		case 1:
			ok = st.present(keys, j)
		default:
			ok = st.fail(func() string { return fmt.Sprintf("it counted %d keys for one key", n) })
		}
		return ok && st.readAt(keys, j, at(j))
	}
	sure := int64(0)
	for _, j := range idx {
		if n == 0 && !st.absent(keys, j) {
			return false
		}
		if keys[j].exists == present && !keys[j].mayVanish() {
			sure++
		}
		if !st.readAt(keys, j, at(j)) {
			return false
		}
	}
	if n < sure {
		return st.fail(func() string { return fmt.Sprintf("it counted %d keys, but %d exist by then", n, sure) })
	}
	return true
}

func findKV(kvs []KV, key string) (KV, bool) {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv, true
		}
	}
	return KV{}, false
}

// putOp checks a Put's answer (its previous key-value, when asked for)
// and writes it.
func (st *stepper) putOp(keys []keyState, j int, op Op, res *Result, rev int64) bool {
	if op.PrevKV && res != nil {
		if len(res.PrevKVs) == 0 {
			if keys[j].exists == present {
				return st.fail(func() string {
					return fmt.Sprintf("it replaced nothing, but %s is %s by then", quote(st.names[j]), describeKey(keys[j]))
				})
			}
		} else if !st.present(keys, j) || !st.observe(keys, j, res.PrevKVs[0], false) {
			return false
		}
	}
	return st.put(keys, j, op, rev, false)
}

// deleteOp checks a Delete's answer (how many it deleted, and which when
// asked for) and applies it at rev.
func (st *stepper) deleteOp(keys []keyState, idx []int, op Op, res *Result, rev int64) bool {
	if res == nil {
		return true
	}
	if op.PrevKV || op.End == "" {
		return st.deleteListed(keys, idx, op, res, rev)
	}
	sure := int64(0)
	for _, j := range idx {
		if keys[j].exists == present && !keys[j].mayVanish() {
			sure++
		}
	}
	if res.Deleted < sure {
		return st.fail(func() string { return fmt.Sprintf("it deleted %d keys, but %d exist by then", res.Deleted, sure) })
	}
	for _, j := range idx {
		k := keys[j]
		ok := true
		switch {
		case res.Deleted == 0:
			ok = st.absent(keys, j) && st.readAt(keys, j, rev)
		case k.exists == present && !k.mayVanish():
			ok = st.remove(keys, j, rev)
		case k.exists == absent:
			ok = st.readAt(keys, j, rev)
		default: // it may have been one of those deleted
			keys[j] = keyState{exists: absent, mod: k.mod, floor: max(k.floor, rev)}
		}
		if !ok {
			return false
		}
	}
	return true
}

// deleteListed applies a Delete whose answer tells each key's fate: one
// key (Deleted is 0 or 1), or a range with its previous key-values.
func (st *stepper) deleteListed(keys []keyState, idx []int, op Op, res *Result, rev int64) bool {
	if op.End == "" && res.Deleted > 1 {
		return st.fail(func() string { return fmt.Sprintf("it deleted %d keys of one", res.Deleted) })
	}
	matched := 0
	for _, j := range idx {
		var gone bool
		var kv KV
		if op.PrevKV {
			kv, gone = findKV(res.PrevKVs, st.names[j])
		} else {
			gone = res.Deleted == 1
		}
		ok := true
		switch {
		case gone:
			matched++
			ok = st.present(keys, j) && (!op.PrevKV || st.observe(keys, j, kv, false)) && st.remove(keys, j, rev)
		default:
			ok = st.absent(keys, j) && st.readAt(keys, j, rev)
		}
		if !ok {
			return false
		}
	}
	if op.PrevKV && matched != len(res.PrevKVs) {
		return st.fail(func() string { return "it returned a key outside what it deleted" })
	}
	return true
}

// applyUnknown steps keys through a write of unknown outcome, taken to
// have taken effect (never taking effect is porcupine's choice: the call
// returns at the end of the history), on every branch its compares allow.
func (st *stepper) applyUnknown(s store, keys []keyState, c *kvCall, out []store) []store {
	req := c.op.Request
	r := yes
	for i, cmp := range req.Compares {
		r = and(r, compareAll(keys, c.cmps[i], cmp))
	}
	for _, took := range []bool{true, false} {
		if (took && r == no) || (!took && r == yes) || (!took && !req.Txn) {
			continue
		}
		branch, idx := req.Then, c.then
		if !took {
			branch, idx = req.Else, c.els
		}
		ks := slices.Clone(keys)
		if took {
			for i, cmp := range req.Compares {
				pin(ks, c.cmps[i], cmp)
			}
		}
		if st.writeUnknown(ks, branch, idx, c.anon >= 0) {
			out = append(out, s.rehash(ks))
		}
	}
	return out
}

// writeUnknown applies a branch's writes at an unknown revision.
func (st *stepper) writeUnknown(keys []keyState, branch []Op, idx [][]int, hidden bool) bool {
	for i, op := range branch {
		switch op.Type {
		case OpPut:
			if !st.put(keys, idx[i][0], op, 0, hidden) {
				return false
			}
		case OpDelete:
			for _, j := range idx[i] {
				switch k := keys[j]; {
				case k.exists == present:
					st.remove(keys, j, 0)
				case k.exists == unseen:
					keys[j] = k.assumedAbsent()
				}
			}
		}
	}
	return true
}

// store is one possible state of a partition's keys, with its hash: per
// key what is known, and per class of anonymous writes how many have been
// placed.
type store struct {
	keys []keyState
	anon []int32
	hash uint64
}

var kvSeed = maphash.MakeSeed()

type indexedKey struct {
	i int
	k keyState
}

func hashKey(i int, k keyState) uint64 { return maphash.Comparable(kvSeed, indexedKey{i, k}) }

type classCount struct {
	class int
	n     int32
}

func hashCount(class int, n int32) uint64 {
	if n == 0 {
		return 0
	}
	return maphash.Comparable(kvSeed, classCount{class, n})
}

// bumped is s with one more anonymous write of class placed.
func (s store) bumped(class int) store {
	anon := slices.Clone(s.anon)
	anon[class]++
	return store{s.keys, anon, s.hash ^ hashCount(class, s.anon[class]) ^ hashCount(class, anon[class])}
}

// rehash is the store of keys, a changed copy of s's (or of nothing).
func (s store) rehash(keys []keyState) store {
	if len(s.keys) != len(keys) {
		var h uint64
		for i, k := range keys {
			h ^= hashKey(i, k)
		}
		return store{keys, s.anon, h}
	}
	h := s.hash
	for i, k := range keys {
		if k != s.keys[i] {
			h ^= hashKey(i, s.keys[i]) ^ hashKey(i, k)
		}
	}
	return store{keys, s.anon, h}
}

func compareStores(a, b store) int {
	if a.hash != b.hash {
		return cmpUint(a.hash, b.hash)
	}
	for i := range a.keys {
		if a.keys[i] != b.keys[i] {
			return strings.Compare(fmt.Sprint(a.keys[i]), fmt.Sprint(b.keys[i]))
		}
	}
	return slices.Compare(a.anon, b.anon)
}

func cmpUint(a, b uint64) int {
	if a < b {
		return -1
	}
	return 1
}

// kvSet is the model's state: the stores the partition may be in (sorted,
// distinct), most of the time one.
type kvSet struct {
	stores []store
	hash   uint64
}

func newKVSet(stores []store) *kvSet {
	if len(stores) > 1 {
		slices.SortFunc(stores, compareStores)
		stores = slices.CompactFunc(stores, func(a, b store) bool { return compareStores(a, b) == 0 })
	}
	var h uint64
	for _, s := range stores {
		h = h*0x100000001b3 ^ s.hash
	}
	return &kvSet{stores, h}
}

func (s *kvSet) equal(o *kvSet) bool {
	if s.hash != o.hash || len(s.stores) != len(o.stores) {
		return false
	}
	for i := range s.stores {
		if !slices.Equal(s.stores[i].keys, o.stores[i].keys) || !slices.Equal(s.stores[i].anon, o.stores[i].anon) {
			return false
		}
	}
	return true
}

// kvModel is the porcupine model of one partition, whose keys are names,
// with classes classes of anonymous writes.
func kvModel(names []string, classes int) porcupine.Model {
	init := newKVSet([]store{store{anon: make([]int32, classes)}.rehash(make([]keyState, len(names)))})
	return porcupine.Model{
		Init: func() any { return init },
		Step: func(state, input, _ any) (bool, any) {
			set, c := state.(*kvSet), input.(*kvCall)
			st := stepper{names: names}
			var next []store
			for _, s := range set.stores {
				next = append(next, st.apply(s, c)...)
			}
			if len(next) == 0 {
				return false, nil
			}
			return true, newKVSet(next)
		},
		Equal:             func(a, b any) bool { return a.(*kvSet).equal(b.(*kvSet)) },
		Hash:              func(s any) uint64 { return s.(*kvSet).hash },
		DescribeOperation: func(input, _ any) string { return describeCall(input.(*kvCall).op) },
		DescribeState:     func(s any) string { return describeSet(s.(*kvSet), names) },
		DescribeOperationMetadata: func(m any) string {
			if m == nil {
				return ""
			}
			return fmt.Sprint(m)
		},
	}
}

// whyNot words why call c cannot follow state s ("" if it can), from the
// first possibility in describeSet's order.
func whyNot(names []string, s *kvSet, c *kvCall) string {
	for _, st := range ordered(s, names) {
		stp := stepper{names: names, explain: true}
		if len(stp.apply(st, c)) > 0 {
			return ""
		}
		if stp.why != "" {
			return stp.why
		}
	}
	return "the model refuses it"
}

// describeSet words a state: each possibility, "or" between them.
func describeSet(s *kvSet, names []string) string {
	var alts []string
	for _, st := range ordered(s, names) {
		alts = append(alts, describeStore(st, names))
	}
	if len(alts) == 1 {
		return alts[0]
	}
	return "either " + strings.Join(alts, ", or ")
}

func describeStore(s store, names []string) string {
	parts := make([]string, len(s.keys))
	for j, k := range s.keys {
		parts[j] = quote(names[j]) + ": " + describeKey(k)
	}
	return strings.Join(parts, ", ")
}

// ordered are a state's possibilities in an order that does not depend on
// the hash seed (the most known first), so messages are reproducible.
func ordered(s *kvSet, names []string) []store {
	stores := slices.Clone(s.stores)
	known := func(st store) int {
		n := 0
		for _, k := range st.keys {
			n += bits.OnesCount8(uint8(k.known))
		}
		return n
	}
	slices.SortStableFunc(stores, func(a, b store) int {
		if ka, kb := known(a), known(b); ka != kb {
			return kb - ka
		}
		return strings.Compare(describeStore(a, names), describeStore(b, names))
	})
	return stores
}

// describeKey words what is known of a key: `"v" (create 3, mod 7,
// version 2)`, `absent (deleted at rev 8)`, `not yet observed`; bounds as
// ≥ or ranges.
func describeKey(k keyState) string {
	switch k.exists {
	case unseen:
		return "not yet observed"
	case absent:
		switch {
		case k.knows(knowMod):
			return fmt.Sprintf("absent (deleted at rev %d)", k.mod)
		case k.mod > 0:
			return fmt.Sprintf("absent (deleted at rev ≥%d)", k.mod)
		}
		return "absent"
	}
	value := "?"
	switch {
	case k.hidden:
		value = "(a value no call shows)"
	case k.knows(knowValue):
		value = fmt.Sprintf("%q", k.value)
	}
	bound := func(v, hi int64, exact bool) string {
		switch {
		case exact || v == hi:
			return fmt.Sprint(v)
		case hi > 0:
			return fmt.Sprintf("%d..%d", v, hi)
		}
		return fmt.Sprintf("≥%d", v)
	}
	s := fmt.Sprintf("%s (create %s, mod %s, version %s", value, bound(k.create, k.createMax, k.knows(knowCreate)),
		bound(k.mod, 0, k.knows(knowMod)), bound(k.version, 0, k.knows(knowVersion)))
	switch {
	case !k.knows(knowLease):
		s += ", lease ?"
	case k.lease != 0:
		s += fmt.Sprintf(", lease %x", k.lease)
	}
	return s + ")"
}

// describeKV words a key-value an answer showed.
func describeKV(kv KV) string {
	s := fmt.Sprintf("%s=%q (create %d, mod %d, version %d", kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision, kv.Version)
	if kv.Lease != 0 {
		s += fmt.Sprintf(", lease %x", kv.Lease)
	}
	return s + ")"
}

func quote(key string) string { return fmt.Sprintf("%q", key) }

// describeCall words a recorded call and what it returned, without its
// client and times: `get /k -> /k="v1" (create 3, mod 5, version 1) at
// rev 6`.
func describeCall(o Operation) string {
	s := o.Request.String()
	switch {
	case o.Outcome == Unknown:
		return s + fmt.Sprintf(" -> outcome unknown (%v)", o.Err)
	case o.Outcome == Failed:
		return s + fmt.Sprintf(" -> failed (%v)", o.Err)
	case o.Response == nil:
		return s + " -> no response recorded"
	}
	r := o.Response
	branch := o.Request.Then
	s += " ->"
	if o.Request.Txn {
		s += " took " + branchName(r.Succeeded)
		if !r.Succeeded {
			branch = o.Request.Else
		}
		s += ";"
	}
	var parts []string
	for i, op := range branch {
		if i >= len(r.Results) {
			break
		}
		if p := describeResult(op, r.Results[i]); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) > 0 {
		s += " " + strings.Join(parts, "; ")
	}
	return s + fmt.Sprintf(" at rev %d", r.Revision)
}

func describeResult(op Op, res Result) string {
	kvs := func(list []KV) string {
		if len(list) == 0 {
			return "nothing"
		}
		parts := make([]string, len(list))
		for i, kv := range list {
			parts[i] = describeKV(kv)
		}
		return strings.Join(parts, ", ")
	}
	switch op.Type {
	case OpGet:
		switch {
		case op.CountOnly:
			return fmt.Sprintf("count %d", res.Count)
		case len(res.KVs) == 0 && op.End == "":
			return op.Key + " absent"
		}
		return kvs(res.KVs)
	case OpDelete:
		s := fmt.Sprintf("deleted %d", res.Deleted)
		if op.PrevKV {
			s += " (" + kvs(res.PrevKVs) + ")"
		}
		return s
	case OpPut:
		if op.PrevKV {
			return "replaced " + kvs(res.PrevKVs)
		}
	}
	return ""
}
