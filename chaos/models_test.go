package chaos

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// The built-in models on histories written by hand: each rule's violation
// fails, and its near misses (concurrent operations in either order,
// unknown outcomes seen and not seen) pass.

// modelEnd is where a test history ends: API.Operations returns an
// Unknown call there, after every other call.
const modelEnd = 1_000

// modelOp is an operation of client that ran from call to ret.
func modelOp(client int, call, ret int64, input, output any) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: input, Call: call, Output: output, Return: ret}
}

// modelUnknown is an operation whose outcome is unknown, as API.Operations
// gives it: a nil output, returning at the end.
func modelUnknown(client int, at int64, input any) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: input, Call: at, Output: Unknown, Return: modelEnd, Metadata: "outcome unknown"}
}

type modelCase struct {
	name string
	ops  []porcupine.Operation
	ok   bool // linearizable
}

func checkModel(t *testing.T, model porcupine.Model, cases []modelCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Bounded: a model that makes porcupine search fails here
			// instead of hanging the test.
			got := porcupine.CheckOperationsTimeout(model, c.ops, 10*time.Second)
			want := porcupine.Illegal
			if c.ok {
				want = porcupine.Ok
			}
			if got != want {
				t.Errorf("check = %s, want %s; history:\n%s", got, want, describeModelOps(model, c.ops))
			}
		})
	}
}

func describeModelOps(model porcupine.Model, ops []porcupine.Operation) string {
	var b strings.Builder
	for _, op := range ops {
		fmt.Fprintf(&b, "  client %d [%d, %d] %s\n", op.ClientId, op.Call, op.Return, model.DescribeOperation(op.Input, op.Output))
	}
	return b.String()
}

func TestCheckModelRegister(t *testing.T) {
	k := Read{Key: "k"}
	checkModel(t, Register(), []modelCase{
		{name: "a stale read after a completed write fails", ops: []porcupine.Operation{
			modelOp(0, 0, 10, Write{"k", "1"}, nil),
			modelOp(1, 20, 30, k, ""),
		}},
		{name: "a read concurrent with the write may miss it", ok: true, ops: []porcupine.Operation{
			modelOp(0, 0, 10, Write{"k", "1"}, nil),
			modelOp(1, 5, 30, k, ""),
		}},
		{name: "a read concurrent with the write may see it", ok: true, ops: []porcupine.Operation{
			modelOp(0, 0, 10, Write{"k", "1"}, nil),
			modelOp(1, 5, 30, k, "1"),
		}},
		{name: "a value nobody wrote fails", ops: []porcupine.Operation{
			modelOp(0, 0, 10, Write{"k", "1"}, nil),
			modelOp(1, 20, 30, k, "2"),
		}},
		{name: "a write to another key does not count", ops: []porcupine.Operation{
			modelOp(0, 0, 10, Write{"a", "1"}, nil),
			modelOp(1, 20, 30, Read{"b"}, "1"),
		}},
		{name: "keys are independent", ok: true, ops: []porcupine.Operation{
			modelOp(0, 0, 10, Write{"a", "1"}, nil),
			modelOp(1, 0, 10, Write{"b", "2"}, nil),
			modelOp(0, 20, 30, Read{"b"}, "2"),
			modelOp(1, 20, 30, Read{"a"}, "1"),
		}},
		{name: "an unknown write may have taken effect", ok: true, ops: []porcupine.Operation{
			modelOp(0, 0, 10, Write{"k", "1"}, nil),
			modelUnknown(1, 15, Write{"k", "2"}),
			modelOp(0, 20, 30, k, "2"),
		}},
		{name: "an unknown write may never have taken effect", ok: true, ops: []porcupine.Operation{
			modelOp(0, 0, 10, Write{"k", "1"}, nil),
			modelUnknown(1, 15, Write{"k", "2"}),
			modelOp(0, 20, 30, k, "1"),
			modelOp(0, 40, 50, k, "1"),
		}},
		{name: "an unknown write may take effect long after its call", ok: true, ops: []porcupine.Operation{
			modelUnknown(1, 0, Write{"k", "2"}),
			modelOp(0, 20, 30, k, ""),
			modelOp(0, 40, 50, k, "2"),
		}},
		{name: "an unknown write seen, then unseen, fails", ops: []porcupine.Operation{
			modelOp(0, 0, 10, Write{"k", "1"}, nil),
			modelUnknown(1, 15, Write{"k", "2"}),
			modelOp(0, 20, 30, k, "2"),
			modelOp(0, 40, 50, k, "1"),
		}},
		{name: "an unknown read is left out", ok: true, ops: []porcupine.Operation{
			modelOp(0, 0, 10, Write{"k", "1"}, nil),
			modelUnknown(1, 20, k),
		}},
		{name: "a read whose output is not a string fails", ops: []porcupine.Operation{
			modelOp(1, 20, 30, k, []byte("")),
		}},
		{name: "an input of another model fails", ops: []porcupine.Operation{
			modelOp(0, 0, 10, Add{N: 1}, nil),
		}},
	})
}

// A deterministic model meets a write that never took effect at every
// read after it and backtracks over every subset of them; the maybeApplied marks
// decide this at once.
func TestCheckModelRegisterManyUnknownWrites(t *testing.T) {
	ops := []porcupine.Operation{modelOp(0, 0, 1, Write{"k", "base"}, nil)}
	for i := range int64(30) {
		ops = append(ops,
			modelUnknown(1, 10*i+2, Write{"k", fmt.Sprint(i)}),
			modelOp(0, 10*i+3, 10*i+4, Read{"k"}, "base"))
	}
	start := time.Now()
	if got := porcupine.CheckOperationsTimeout(Register(), ops, 10*time.Second); got != porcupine.Ok {
		t.Fatalf("30 unknown writes never seen: check = %s, want Ok", got)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("30 unknown writes took %v to check; want one pass", took)
	}
}

func TestCheckModelCounter(t *testing.T) {
	r := ReadCounter{}
	checkModel(t, Counter(), []modelCase{
		{name: "a lost increment fails", ops: []porcupine.Operation{
			modelOp(0, 0, 10, Add{1}, nil),
			modelOp(1, 20, 30, Add{1}, nil),
			modelOp(2, 40, 50, r, int64(1)),
		}},
		{name: "a read concurrent with the second add may see one", ok: true, ops: []porcupine.Operation{
			modelOp(0, 0, 10, Add{1}, nil),
			modelOp(1, 20, 30, Add{1}, nil),
			modelOp(2, 25, 50, r, int64(1)),
		}},
		{name: "concurrent adds seen in either order", ok: true, ops: []porcupine.Operation{
			modelOp(0, 0, 30, Add{1}, nil),
			modelOp(1, 0, 30, Add{10}, nil),
			modelOp(2, 5, 8, r, int64(10)),
			modelOp(2, 10, 12, r, int64(11)),
		}},
		{name: "a sum never reached fails", ops: []porcupine.Operation{
			modelOp(0, 0, 30, Add{1}, nil),
			modelOp(1, 0, 30, Add{10}, nil),
			modelOp(2, 5, 8, r, int64(2)),
		}},
		{name: "an unknown add may have been applied", ok: true, ops: []porcupine.Operation{
			modelOp(0, 0, 10, Add{1}, nil),
			modelUnknown(1, 5, Add{1}),
			modelOp(2, 20, 30, r, int64(2)),
		}},
		{name: "an unknown add may never have been applied", ok: true, ops: []porcupine.Operation{
			modelOp(0, 0, 10, Add{1}, nil),
			modelUnknown(1, 5, Add{1}),
			modelOp(2, 20, 30, r, int64(1)),
		}},
		{name: "an unknown add seen, then unseen, fails", ops: []porcupine.Operation{
			modelUnknown(1, 5, Add{1}),
			modelOp(2, 20, 30, r, int64(1)),
			modelOp(2, 40, 50, r, int64(0)),
		}},
		{name: "subtracting and any integer type", ok: true, ops: []porcupine.Operation{
			modelOp(0, 0, 10, Add{5}, nil),
			modelOp(0, 20, 30, Add{-2}, nil),
			modelOp(1, 40, 50, r, 3),
			modelOp(1, 60, 70, r, uint8(3)),
		}},
		{name: "a read whose output is not an integer fails", ops: []porcupine.Operation{
			modelOp(1, 0, 10, r, "0"),
		}},
	})
}

// Unknown adds of different amounts, none applied, with a read after each.
func TestCheckModelCounterManyUnknownAdds(t *testing.T) {
	var ops []porcupine.Operation
	for i := range int64(30) {
		ops = append(ops,
			modelUnknown(1, 10*i, Add{i + 1}),
			modelOp(0, 10*i+1, 10*i+2, ReadCounter{}, int64(0)))
	}
	start := time.Now()
	if got := porcupine.CheckOperationsTimeout(Counter(), ops, 10*time.Second); got != porcupine.Ok {
		t.Fatalf("30 unknown adds never seen: check = %s, want Ok", got)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("30 unknown adds took %v to check; want one pass", took)
	}
}

func TestCheckModelSet(t *testing.T) {
	r := ReadSet{}
	checkModel(t, Set(), []modelCase{
		{name: "an inserted element missing from a later read fails", ops: []porcupine.Operation{
			modelOp(0, 0, 10, Insert{"a"}, nil),
			modelOp(1, 0, 10, Insert{"b"}, nil),
			modelOp(2, 20, 30, r, []string{"b"}),
		}},
		{name: "an element from nowhere fails", ops: []porcupine.Operation{
			modelOp(0, 0, 10, Insert{"a"}, nil),
			modelOp(2, 20, 30, r, []string{"a", "x"}),
		}},
		{name: "an element listed twice fails", ops: []porcupine.Operation{
			modelOp(0, 0, 10, Insert{"a"}, nil),
			modelOp(0, 11, 12, Insert{"a"}, nil),
			modelOp(2, 20, 30, r, []string{"a", "a"}),
		}},
		{name: "a read concurrent with an insert may miss it", ok: true, ops: []porcupine.Operation{
			modelOp(0, 0, 10, Insert{"a"}, nil),
			modelOp(1, 15, 40, Insert{"b"}, nil),
			modelOp(2, 20, 30, r, []string{"a"}),
		}},
		{name: "a read concurrent with an insert may see it, in any order", ok: true, ops: []porcupine.Operation{
			modelOp(0, 0, 10, Insert{"a"}, nil),
			modelOp(1, 15, 40, Insert{"b"}, nil),
			modelOp(2, 20, 30, r, []string{"b", "a"}),
		}},
		{name: "the empty set, as a nil slice", ok: true, ops: []porcupine.Operation{
			modelOp(2, 20, 30, r, []string(nil)),
			modelOp(0, 40, 50, Insert{"a"}, nil),
		}},
		{name: "an unknown insert may have been applied", ok: true, ops: []porcupine.Operation{
			modelUnknown(0, 0, Insert{"a"}),
			modelOp(2, 20, 30, r, []string{"a"}),
		}},
		{name: "an unknown insert may never have been applied", ok: true, ops: []porcupine.Operation{
			modelOp(1, 0, 10, Insert{"b"}, nil),
			modelUnknown(0, 0, Insert{"a"}),
			modelOp(2, 20, 30, r, []string{"b"}),
			modelOp(2, 40, 50, r, []string{"b"}),
		}},
		{name: "an unknown insert seen, then unseen, fails", ops: []porcupine.Operation{
			modelUnknown(0, 0, Insert{"a"}),
			modelOp(2, 20, 30, r, []string{"a"}),
			modelOp(2, 40, 50, r, []string{}),
		}},
		{name: "reads must agree on one order of the inserts", ops: []porcupine.Operation{
			// Two concurrent reads, one seeing only a, the other only b:
			// each is fine alone, but no order of the two inserts gives
			// both (checking each element apart would pass this).
			modelUnknown(0, 0, Insert{"a"}),
			modelUnknown(1, 0, Insert{"b"}),
			modelOp(2, 10, 20, r, []string{"a"}),
			modelOp(2, 30, 40, r, []string{"a", "b"}),
			modelOp(3, 10, 20, r, []string{"b"}),
		}},
	})
}

func TestCheckModelBank(t *testing.T) {
	r := ReadBalances{}
	checkModel(t, Bank(300), []modelCase{
		{name: "a read whose total is off fails", ops: []porcupine.Operation{
			modelOp(0, 0, 10, Transfer{"a", "b", 10}, nil),
			modelOp(2, 20, 30, r, map[string]int64{"a": 90, "b": 100, "c": 100}),
		}},
		{name: "a negative balance fails, though the total is right", ops: []porcupine.Operation{
			modelOp(2, 20, 30, r, map[string]int64{"a": -10, "b": 210, "c": 100}),
		}},
		{name: "a missing account fails", ops: []porcupine.Operation{
			modelOp(2, 20, 30, r, map[string]int64{"a": 100, "b": 100}),
		}},
		{name: "one wrong read among right ones fails", ops: []porcupine.Operation{
			modelOp(2, 0, 1, r, map[string]int64{"a": 100, "b": 100, "c": 100}),
			modelOp(3, 0, 1, r, map[string]int64{"a": 100, "b": 100, "c": 100}),
			modelOp(2, 2, 3, r, map[string]int64{"a": 100, "b": 100, "c": 101}),
			modelOp(3, 2, 3, r, map[string]int64{"a": 100, "b": 100, "c": 100}),
		}},
		{name: "transfers concurrent with reads, every total right", ok: true, ops: []porcupine.Operation{
			modelOp(0, 0, 10, Transfer{"a", "b", 10}, nil),
			modelOp(1, 0, 10, Transfer{"b", "c", 50}, nil),
			modelOp(2, 5, 8, r, map[string]int64{"a": 90, "b": 110, "c": 100}),
			modelOp(3, 5, 8, r, map[string]int64{"a": 100, "b": 50, "c": 150}),
			modelOp(2, 20, 30, r, map[string]int64{"a": 90, "b": 60, "c": 150}),
		}},
		{name: "unknown transfers seen and not seen", ok: true, ops: []porcupine.Operation{
			modelUnknown(0, 0, Transfer{"a", "b", 10}),
			modelUnknown(1, 0, Transfer{"c", "a", 30}),
			modelOp(2, 20, 30, r, map[string]int64{"a": 100, "b": 100, "c": 100}),
			modelOp(2, 40, 50, r, map[string]int64{"a": 90, "b": 110, "c": 100}),
			modelOp(2, 60, 70, r, map[string]int64{"a": 120, "b": 110, "c": 70}),
		}},
		{name: "an unknown read is left out", ok: true, ops: []porcupine.Operation{
			modelUnknown(2, 20, r),
		}},
		{name: "a read whose output is not a map of int64 fails", ops: []porcupine.Operation{
			modelOp(2, 20, 30, r, map[string]int{"a": 100, "b": 100, "c": 100}),
		}},
		{name: "an input of another model fails", ops: []porcupine.Operation{
			modelOp(0, 0, 10, Read{"a"}, "100"),
		}},
	})
}

// Through the recording API, as a spec uses it: Return, Unknown and Fail,
// and API.Operations as the checker's input.
func TestCheckModelAPI(t *testing.T) {
	t.Run("bank", func(t *testing.T) {
		h := NewHistory()
		bank := h.API("bank", Bank(300))
		bank.Call(0, Transfer{"a", "b", 10}).Return(nil)
		bank.Call(1, Transfer{"b", "c", 50}).Unknown()
		bank.Call(1, Transfer{"c", "a", 500}).Fail() // refused: left out
		bank.Call(2, ReadBalances{}).Return(map[string]int64{"a": 90, "b": 110, "c": 100})
		read := bank.Call(2, ReadBalances{})
		ops := bank.Operations()
		if len(ops) != 4 || ops[1].Output != Unknown || ops[1].Return <= ops[2].Return || ops[3].Return != ops[1].Return {
			t.Fatalf("Operations: want 4 (the failed one left out) with the unknown and unended calls returning last, got %+v", ops)
		}
		if !porcupine.CheckOperations(bank.Model(), ops) {
			t.Fatalf("a read with the right total failed:\n%s", describeModelOps(bank.Model(), ops))
		}
		read.Return(map[string]int64{"a": 90, "b": 100, "c": 100})
		if porcupine.CheckOperations(bank.Model(), bank.Operations()) {
			t.Errorf("a read with a total of 290, not 300, passed:\n%s", describeModelOps(bank.Model(), bank.Operations()))
		}
	})
	t.Run("register", func(t *testing.T) {
		h := NewHistory()
		store := h.API("store", Register())
		store.Call(0, Write{"k", "1"}).Return(nil)
		store.Call(1, Write{"k", "2"}).Unknown()
		store.Call(0, Read{"k"}).Return("2")
		store.Call(2, Read{"k"}).Unknown()
		if !porcupine.CheckOperations(store.Model(), store.Operations()) {
			t.Fatalf("an unknown write seen failed:\n%s", describeModelOps(store.Model(), store.Operations()))
		}
		store.Call(0, Read{"k"}).Return("3")
		if porcupine.CheckOperations(store.Model(), store.Operations()) {
			t.Errorf("a value nobody wrote passed:\n%s", describeModelOps(store.Model(), store.Operations()))
		}
	})
}

func TestCheckModelDescriptions(t *testing.T) {
	for _, c := range []struct {
		model         porcupine.Model
		input, output any
		want          string
	}{
		{Register(), Write{"k", "v"}, nil, `write k="v"`},
		{Register(), maybeApplied{Write{"k", "v"}}, nil, `write k="v" (may not have taken effect)`},
		{Register(), Read{"k"}, "v", `read k -> "v"`},
		{Register(), Read{"k"}, 7, `read k -> 7 (a int), not a string`},
		{Register(), Add{1}, nil, `chaos.Add{N:1}: not an input of chaos.Register, which takes chaos.Read and chaos.Write`},
		{Counter(), Add{-2}, nil, `add -2`},
		{Counter(), ReadCounter{}, int64(3), `read -> 3`},
		{Set(), Insert{"a"}, nil, `insert "a"`},
		{Set(), ReadSet{}, []string{"b", "a"}, `read -> {"a", "b"}`},
		{Bank(300), Transfer{"a", "b", 10}, nil, `transfer 10 from a to b`},
		{Bank(300), ReadBalances{}, map[string]int64{"b": 100, "a": 100, "c": 100}, `read -> a=100 b=100 c=100 (total 300)`},
		{Bank(300), ReadBalances{}, map[string]int64{"a": -10, "b": 100, "c": 100}, `read -> a=-10 b=100 c=100 (total 190, not 300; negative: a)`},
	} {
		if got := c.model.DescribeOperation(c.input, c.output); got != c.want {
			t.Errorf("DescribeOperation(%#v, %#v) = %q, want %q", c.input, c.output, got, c.want)
		}
	}

	// The states as porcupine's picture shows them: the set of states the
	// nondeterministic models may be in.
	for _, c := range []struct {
		model porcupine.Model
		want  string
	}{
		{Register(), `{""}`},
		{Counter(), `{0}`},
		{Set(), `{{}}`},
		{Bank(300), `total 300`},
	} {
		if got := c.model.DescribeState(c.model.Init()); got != c.want {
			t.Errorf("DescribeState(Init()) = %q, want %q", got, c.want)
		}
	}
	m := Register()
	_, s := m.Step(m.Init(), maybeApplied{Write{"k", "v"}}, nil)
	if got, want := m.DescribeState(s), `{"", "v"}`; got != want {
		t.Errorf("after an unknown write: DescribeState = %q, want %q", got, want)
	}

	// The picture of a failure renders with these descriptions.
	model := Register()
	ops := []porcupine.Operation{
		modelOp(0, 0, 10, Write{"k", "1"}, nil),
		modelUnknown(1, 5, Write{"k", "2"}),
		modelOp(2, 20, 30, Read{"k"}, ""),
	}
	res, info := porcupine.CheckOperationsVerbose(model, ops, 10*time.Second)
	if res != porcupine.Illegal {
		t.Fatalf("a stale read: check = %s, want Illegal", res)
	}
	var html bytes.Buffer
	if err := porcupine.Visualize(model, info, &html); err != nil {
		t.Fatalf("Visualize: %v", err)
	}
	if !strings.Contains(html.String(), "may not have taken effect") {
		t.Errorf("the picture does not describe the unknown write")
	}
}
