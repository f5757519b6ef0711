package chaos

// Built-in models for the user's own operations (History.API): the classic
// workloads of Jepsen and etcd's robustness suite — a register per key, a
// counter, a set, and the bank. Each is a porcupine.Model whose inputs are
// the small types below and whose outputs are plain values (a string, an
// int64, a []string, a map).
//
// Unknown outcomes. API.Operations gives a call recorded as Unknown the
// output Unknown (the Outcome) and returns it at the end of the history, after every other call
// began: the effect may have landed at any point after the call, or never.
// "Never" is the same, to the checker, as "after everything else", so a
// model that always applies a write is exact; but porcupine then meets a
// write that did not land at every read after it and backtracks over every
// subset of such writes — 2^k for k of them, in a history that passes. So
// each model's Partition marks every write with an Unknown output that returned
// after the last call began (all the Unknown ones) as "applied or not",
// and its Step takes both branches at once (porcupine's
// NondeterministicModel): the states the reads rule out fall away, and a
// history with many unknown writes is decided in one pass. A read with an
// Unknown output tells nothing: Step accepts it unchanged, and Partition leaves
// it out, so it cannot make porcupine search either.

import (
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/anishathalye/porcupine"
)

// Read is a Register input: read the value of Key. Its output is the value,
// a string: "" when the key has none.
type Read struct{ Key string }

// Write is a Register input: set Key to Value. Its output is not looked at
// (Return(nil)).
type Write struct{ Key, Value string }

// Add is a Counter input: add N (negative to subtract). Its output is not
// looked at.
type Add struct{ N int64 }

// ReadCounter is a Counter input: read the counter. Its output is the
// value, an int64 (any integer type is read as one).
type ReadCounter struct{}

// Insert is a Set input: add Element to the set. Its output is not looked
// at.
type Insert struct{ Element string }

// ReadSet is a Set input: read the whole set. Its output is the elements, a
// []string in any order (an empty or nil []string for the empty set).
type ReadSet struct{}

// Transfer is a Bank input: move Amount from account From to account To.
// Its output is not looked at. A transfer the bank refused (not enough
// money) changed nothing: record it with Call.Fail.
type Transfer struct {
	From, To string
	Amount   int64
}

// ReadBalances is a Bank input: read every account. Its output is a
// map[string]int64 from account to balance, with every account in it.
type ReadBalances struct{}

func (r Read) String() string      { return "read " + r.Key }
func (w Write) String() string     { return fmt.Sprintf("write %s=%q", w.Key, w.Value) }
func (a Add) String() string       { return fmt.Sprintf("add %d", a.N) }
func (ReadCounter) String() string { return "read counter" }
func (i Insert) String() string    { return fmt.Sprintf("insert %q", i.Element) }
func (ReadSet) String() string     { return "read set" }
func (t Transfer) String() string {
	return fmt.Sprintf("transfer %d from %s to %s", t.Amount, t.From, t.To)
}
func (ReadBalances) String() string { return "read balances" }

// unknownOutput says whether a call's output is the one API.Operations
// gives a call whose outcome is unknown.
func unknownOutput(output any) bool { return output == Unknown }

// describeOutput shows an output of the wrong type with its type.
func describeOutput(output any) string { return fmt.Sprintf("%v (a %T)", output, output) }

func quoted(s string) string { return strconv.Quote(s) }

// maybeApplied is a write that may have taken effect or not: Partition
// wraps an Unknown write in it (see the file comment).
type maybeApplied struct{ input any }

// notAnInput is an input the model does not take; Step refuses it, and the
// description says which inputs the model takes.
type notAnInput struct{ input any }

// inputKind sorts a model's inputs for settleUnknowns.
type inputKind int

const (
	readInput inputKind = iota
	writeInput
	otherInput
)

// settleUnknowns prepares one partition for the check: reads with an Unknown
// output are left out, and writes with an Unknown output that returned after
// every call in the partition began are marked maybeApplied. Such a write
// can be linearized after every other operation (nothing is bound to
// follow it), which is what "never took effect" looks like, so marking it
// loses nothing. The caller's operations are not changed.
func settleUnknowns(ops []porcupine.Operation, kindOf func(any) inputKind) []porcupine.Operation {
	var lastCall int64
	for _, op := range ops {
		lastCall = max(lastCall, op.Call)
	}
	out := make([]porcupine.Operation, 0, len(ops))
	for _, op := range ops {
		switch kindOf(op.Input) {
		case readInput:
			if unknownOutput(op.Output) {
				continue
			}
		case writeInput:
			if unknownOutput(op.Output) && op.Return >= lastCall {
				op.Input = maybeApplied{op.Input}
			}
		case otherInput:
			op.Input = notAnInput{op.Input}
		}
		out = append(out, op)
	}
	return out
}

// stepMaybe applies a write's deterministic step, to both branches of a
// maybeApplied: the states a write may leave, taken or not.
func stepMaybe(state, input any, apply func(state, input any) any) []any {
	if m, ok := input.(maybeApplied); ok {
		return []any{state, apply(state, m.input)}
	}
	return []any{apply(state, input)}
}

// Register is the model of a store of independent registers, one per key,
// for an API of reads and writes by key (a config store, a cache):
//
//	store := h.API("config", chaos.Register())
//	w := store.Call(client, chaos.Write{Key: "color", Value: "red"})
//	if err := cfg.Set(ctx, "color", "red"); err != nil { w.Unknown() } else { w.Return(nil) }
//	r := store.Call(client, chaos.Read{Key: "color"})
//	if v, err := cfg.Get(ctx, "color"); err != nil { r.Unknown() } else { r.Return(v) }
//
// The rules: every key starts with no value (""); a Write sets its key's
// value; a Read returns the value of the last Write of its key before it,
// "" if none. So a read that misses a completed write (stale), or returns a
// value nobody wrote, fails. A Write recorded as Unknown may take effect at
// any point after its call, or never; a Read recorded as Unknown is left
// out. Keys are checked apart (the history is partitioned by key), so a
// history costs what its busiest key costs.
func Register() porcupine.Model {
	nm := porcupine.NondeterministicModel{
		Partition:      partitionRegister,
		PartitionEvent: partitionRegisterEvents,
		Init:           func() []any { return []any{""} },
		Step:           registerStep,
		Hash:           func(state any) uint64 { return hashStrings(state.(string)) },
		DescribeOperation: func(input, output any) string {
			switch in := input.(type) {
			case maybeApplied:
				return fmt.Sprintf("write %s=%q (may not have taken effect)", in.input.(Write).Key, in.input.(Write).Value)
			case Write:
				return fmt.Sprintf("write %s=%q", in.Key, in.Value)
			case Read:
				if v, ok := output.(string); ok {
					return fmt.Sprintf("read %s -> %q", in.Key, v)
				}
				return fmt.Sprintf("read %s -> %s, not a string", in.Key, describeOutput(output))
			}
			return describeForeign(input, "Register", "chaos.Read and chaos.Write")
		},
		DescribeState: func(state any) string { return quoted(state.(string)) },
	}
	return nm.ToModel()
}

func registerKind(input any) inputKind {
	switch input.(type) {
	case Read:
		return readInput
	case Write:
		return writeInput
	}
	return otherInput
}

func registerStep(state, input, output any) []any {
	switch in := input.(type) {
	case maybeApplied, Write:
		return stepMaybe(state, in, func(_, w any) any { return w.(Write).Value })
	case Read:
		if v, ok := output.(string); unknownOutput(output) || ok && v == state.(string) {
			return []any{state}
		}
	}
	return nil
}

// registerKey is the partition an input of Register's goes to: its key, or
// one partition of its own for inputs Register does not take.
func registerKey(input any) (key string, ok bool) {
	switch in := input.(type) {
	case Read:
		return in.Key, true
	case Write:
		return in.Key, true
	}
	return "", false
}

func partitionRegister(history []porcupine.Operation) [][]porcupine.Operation {
	type part struct {
		key string
		ok  bool
	}
	index := map[part]int{}
	var parts [][]porcupine.Operation
	for _, op := range history {
		k, ok := registerKey(op.Input)
		p := part{k, ok}
		i, seen := index[p]
		if !seen {
			i = len(parts)
			index[p] = i
			parts = append(parts, nil)
		}
		parts[i] = append(parts[i], op)
	}
	for i := range parts {
		parts[i] = settleUnknowns(parts[i], registerKind)
	}
	return parts
}

// partitionRegisterEvents splits an event history by key, like
// partitionRegister; writes stay as they are (always applied, which is
// exact, see the file comment) since events carry no times to settleUnknowns by.
func partitionRegisterEvents(history []porcupine.Event) [][]porcupine.Event {
	keyOf := map[int]string{} // event Id -> the partition of its call
	index := map[string]int{}
	var parts [][]porcupine.Event
	for _, e := range history {
		if e.Kind == porcupine.CallEvent {
			k, ok := registerKey(e.Value)
			if !ok {
				k = "\x00foreign"
			}
			keyOf[e.Id] = "k" + k
		}
		p := keyOf[e.Id]
		i, seen := index[p]
		if !seen {
			i = len(parts)
			index[p] = i
			parts = append(parts, nil)
		}
		parts[i] = append(parts[i], e)
	}
	return parts
}

// Counter is the model of a counter, for an API that adds to a number and
// reads it (a quota, a sequence, a like count):
//
//	hits := h.API("hits", chaos.Counter())
//	a := hits.Call(client, chaos.Add{N: 1})
//	if err := c.Incr(ctx); err != nil { a.Unknown() } else { a.Return(nil) }
//	r := hits.Call(client, chaos.ReadCounter{})
//	if n, err := c.Value(ctx); err != nil { r.Unknown() } else { r.Return(n) }
//
// The rules: the counter starts at 0; an Add adds its N; a ReadCounter
// returns the sum of the Adds before it. So a lost increment (two
// read-modify-writes without a compare-and-swap) fails, and so does a
// read that sees an Add, then a later one that does not. An Add recorded
// as Unknown may have been applied at any point after its call, or never;
// a ReadCounter recorded as Unknown is left out.
func Counter() porcupine.Model {
	nm := porcupine.NondeterministicModel{
		Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
			return [][]porcupine.Operation{settleUnknowns(history, counterKind)}
		},
		Init: func() []any { return []any{int64(0)} },
		Step: counterStep,
		Hash: func(state any) uint64 { return uint64(state.(int64)) * 0x9e3779b97f4a7c15 },
		DescribeOperation: func(input, output any) string {
			switch in := input.(type) {
			case maybeApplied:
				return fmt.Sprintf("add %d (may not have taken effect)", in.input.(Add).N)
			case Add:
				return fmt.Sprintf("add %d", in.N)
			case ReadCounter:
				if n, ok := asInt64(output); ok {
					return fmt.Sprintf("read -> %d", n)
				}
				return fmt.Sprintf("read -> %s, not an integer", describeOutput(output))
			}
			return describeForeign(input, "Counter", "chaos.Add and chaos.ReadCounter")
		},
		DescribeState: func(state any) string { return strconv.FormatInt(state.(int64), 10) },
	}
	return nm.ToModel()
}

func counterKind(input any) inputKind {
	switch input.(type) {
	case ReadCounter:
		return readInput
	case Add:
		return writeInput
	}
	return otherInput
}

func counterStep(state, input, output any) []any {
	switch in := input.(type) {
	case maybeApplied, Add:
		return stepMaybe(state, in, func(s, a any) any { return s.(int64) + a.(Add).N })
	case ReadCounter:
		if n, ok := asInt64(output); unknownOutput(output) || ok && n == state.(int64) {
			return []any{state}
		}
	}
	return nil
}

// asInt64 reads an output of any integer type, so a Return(len(x)) or a
// Return(uint64(n)) is not taken for a wrong answer.
func asInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int16:
		return int64(n), true
	case int8:
		return int64(n), true
	case uint64:
		return int64(n), true
	case uint:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint8:
		return int64(n), true
	}
	return 0, false
}

// Set is the model of a grow-only set, for an API that adds elements and
// lists them (a registry of members, a queue's seen-IDs, tags):
//
//	members := h.API("members", chaos.Set())
//	in := members.Call(client, chaos.Insert{Element: "node-3"})
//	if err := reg.Join(ctx, "node-3"); err != nil { in.Unknown() } else { in.Return(nil) }
//	r := members.Call(client, chaos.ReadSet{})
//	if ids, err := reg.List(ctx); err != nil { r.Unknown() } else { r.Return(ids) }
//
// The rules: the set starts empty; an Insert adds its element (again is no
// change); a ReadSet returns exactly the elements inserted before it, in
// any order, each once. So an inserted element missing from a later read
// (a lost write) fails, and so do an element nobody inserted and an element
// listed twice. An Insert recorded as Unknown may have been applied at any
// point after its call, or never; a ReadSet recorded as Unknown is left
// out. The whole set is one state, so reads are checked against one order
// of all inserts (Jepsen's set-full checks each element apart, which is
// weaker); a history with many inserts whose outcome is unknown between two
// reads costs up to 2^k states.
func Set() porcupine.Model {
	nm := porcupine.NondeterministicModel{
		Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
			return [][]porcupine.Operation{settleUnknowns(history, setKind)}
		},
		Init:  func() []any { return []any{setState(nil)} },
		Step:  setStep,
		Equal: func(a, b any) bool { return slices.Equal(a.(setState), b.(setState)) },
		Hash:  func(state any) uint64 { return hashStrings(state.(setState)...) },
		DescribeOperation: func(input, output any) string {
			switch in := input.(type) {
			case maybeApplied:
				return fmt.Sprintf("insert %q (may not have taken effect)", in.input.(Insert).Element)
			case Insert:
				return fmt.Sprintf("insert %q", in.Element)
			case ReadSet:
				if es, ok := output.([]string); ok {
					return "read -> " + setState(es).String()
				}
				return fmt.Sprintf("read -> %s, not a []string", describeOutput(output))
			}
			return describeForeign(input, "Set", "chaos.Insert and chaos.ReadSet")
		},
		DescribeState: func(state any) string { return state.(setState).String() },
	}
	return nm.ToModel()
}

// setState is a set as a sorted slice without duplicates, never changed
// once made (a step makes a new one).
type setState []string

func (s setState) String() string {
	q := make([]string, len(s))
	for i, e := range slices.Sorted(slices.Values(s)) {
		q[i] = quoted(e)
	}
	return "{" + strings.Join(q, ", ") + "}"
}

func (s setState) insert(e string) setState {
	i, found := slices.BinarySearch(s, e)
	if found {
		return s
	}
	return slices.Insert(slices.Clip(s), i, e)
}

func setKind(input any) inputKind {
	switch input.(type) {
	case ReadSet:
		return readInput
	case Insert:
		return writeInput
	}
	return otherInput
}

func setStep(state, input, output any) []any {
	switch in := input.(type) {
	case maybeApplied, Insert:
		return stepMaybe(state, in, func(s, i any) any { return s.(setState).insert(i.(Insert).Element) })
	case ReadSet:
		if unknownOutput(output) {
			return []any{state}
		}
		es, ok := output.([]string)
		if ok && slices.Equal(slices.Sorted(slices.Values(es)), []string(state.(setState))) {
			return []any{state} // equal to a set without duplicates: none in es either
		}
	}
	return nil
}

// Bank is the model of Jepsen's bank, for an API that moves money between
// accounts and reads them all in one snapshot (any transactional update of
// several keys: a ledger, inventory across warehouses):
//
//	bank := h.API("bank", chaos.Bank(500))
//	t := bank.Call(client, chaos.Transfer{From: "a", To: "b", Amount: 10})
//	if err := ledger.Transfer(ctx, "a", "b", 10); err != nil { t.Unknown() } else { t.Return(nil) }
//	r := bank.Call(client, chaos.ReadBalances{})
//	if bs, err := ledger.Balances(ctx); err != nil { r.Unknown() } else { r.Return(bs) } // map[string]int64
//
// The rule is Jepsen's invariant, checked in every read by itself: a
// ReadBalances's balances sum to total, and none is negative (a transfer
// that overdraws an account is the anomaly of two transfers that each saw
// enough money; a bank that allows overdrafts needs its own model). An
// account missing from a read counts as 0, so a read must list every
// account. Transfers never fail the check, whatever their outcome: money
// that moved, or not, leaves the total as it was. So the check catches a
// lost update (a transfer applied on top of a stale balance creates or
// destroys money) and a torn read (balances from before and after a
// transfer), but not a read of an old snapshot whose total was right:
// Register or the KV level see those. Transfers and reads recorded as
// Unknown are left out of the check and of its picture.
func Bank(total int64) porcupine.Model {
	return porcupine.Model{
		Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
			// Only the reads carry the invariant; a transfer can be in
			// any state, and leaving them out keeps porcupine from
			// ordering thousands of operations that cannot fail.
			var reads []porcupine.Operation
			for _, op := range history {
				switch op.Input.(type) {
				case Transfer:
					continue
				case ReadBalances:
					if unknownOutput(op.Output) {
						continue
					}
				default:
					op.Input = notAnInput{op.Input}
				}
				reads = append(reads, op)
			}
			return [][]porcupine.Operation{reads}
		},
		Init: func() any { return total },
		Step: func(state, input, output any) (bool, any) {
			switch input.(type) {
			case Transfer:
				return true, state
			case ReadBalances:
				if unknownOutput(output) {
					return true, state
				}
				bs, ok := output.(map[string]int64)
				return ok && bankBalanced(bs, total), state
			}
			return false, state
		},
		DescribeOperation: func(input, output any) string {
			switch in := input.(type) {
			case Transfer:
				return in.String()
			case ReadBalances:
				bs, ok := output.(map[string]int64)
				if !ok {
					return fmt.Sprintf("read -> %s, not a map[string]int64", describeOutput(output))
				}
				return "read -> " + describeBalances(bs, total)
			}
			return describeForeign(input, "Bank", "chaos.Transfer and chaos.ReadBalances")
		},
		DescribeState: func(state any) string { return fmt.Sprintf("total %d", state.(int64)) },
	}
}

// bankBalanced is Bank's invariant.
func bankBalanced(bs map[string]int64, total int64) bool {
	var sum int64
	for _, b := range bs {
		if b < 0 {
			return false
		}
		sum += b
	}
	return sum == total
}

// describeBalances lists the accounts in order, then the total and what
// is wrong with it: "a=100 b=90 c=100 (total 290, not 300)".
func describeBalances(bs map[string]int64, total int64) string {
	var b strings.Builder
	var sum int64
	var negative []string
	for _, acct := range slices.Sorted(maps.Keys(bs)) {
		fmt.Fprintf(&b, "%s=%d ", acct, bs[acct])
		sum += bs[acct]
		if bs[acct] < 0 {
			negative = append(negative, acct)
		}
	}
	if sum == total {
		fmt.Fprintf(&b, "(total %d", sum)
	} else {
		fmt.Fprintf(&b, "(total %d, not %d", sum, total)
	}
	if len(negative) > 0 {
		fmt.Fprintf(&b, "; negative: %s", strings.Join(negative, ", "))
	}
	return b.String() + ")"
}

// describeForeign is the description of an input a model does not take.
func describeForeign(input any, model, takes string) string {
	if f, ok := input.(notAnInput); ok {
		input = f.input
	}
	return fmt.Sprintf("%#v: not an input of chaos.%s, which takes %s", input, model, takes)
}

func hashStrings(ss ...string) uint64 {
	h := fnv.New64a()
	for _, s := range ss {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return h.Sum64()
}
