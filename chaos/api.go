package chaos

// The user's own operations. The KV level cannot see an application's lost
// update: two read-modify-writes without a compare-and-swap make a KV
// history that is perfectly linearizable. So the code under test also
// records the calls of its own API — call, input, output, return, per
// simulated client — and they are checked against a model of what the API
// promises: a porcupine.Model the user writes, or one of the built-in ones
// (models.go): Register, Counter, Set and Bank.

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
)

// API is the record of one API of the code under test, checked against its
// model by matchers.BeLinearizable:
//
//	bank := h.API("bank", chaos.Bank(500))
//	call := bank.Call(client, chaos.Transfer{From: "a", To: "b", Amount: 10})
//	err := store.Transfer(ctx, "a", "b", 10)
//	if err != nil { call.Unknown() } else { call.Return(nil) }
//
// Safe for concurrent use; concurrent calls are separate operations.
type API struct {
	h     *History
	name  string
	model porcupine.Model

	mu    sync.Mutex
	calls []*Call
}

// Call is one call of an API, from Call until Return, Unknown or Fail.
type Call struct {
	api    *API
	client int
	input  any
	call   time.Duration

	// set once it ends, under api.mu
	ended   bool
	outcome Outcome
	output  any
	ret     time.Duration
}

// API starts recording the calls of an API named name (for messages and the
// visualization's file name), to be checked against model. Calling it again
// with the same name returns the same API (the model of the first call
// stays).
func (h *History) API(name string, model porcupine.Model) *API {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range h.apis {
		if a.name == name {
			return a
		}
	}
	a := &API{h: h, name: name, model: model}
	h.apis = append(h.apis, a)
	return a
}

// APIs returns the APIs recorded in h, in the order they were made.
func (h *History) APIs() []*API {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.apis)
}

// Name is the API's name.
func (a *API) Name() string { return a.name }

// Model is the model the API's calls are checked against.
func (a *API) Model() porcupine.Model { return a.model }

// Call records that client (a simulated process: its own number, from 0)
// calls the API with input, now. End it with Return, Unknown or Fail once
// the call returns; a call never ended counts as Unknown.
func (a *API) Call(client int, input any) *Call {
	c := &Call{api: a, client: client, input: input, call: a.h.now()}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.h.Stopped() {
		a.calls = append(a.calls, c)
	}
	return c
}

// Return records that the call returned output: it took effect once,
// between its call and now.
func (c *Call) Return(output any) { c.end(Succeeded, output) }

// Unknown records that the call returned without saying whether it took
// effect (a timeout, a lost connection): it may have, at any point after its
// call, or never. The checker gives the model the output Unknown (the
// Outcome constant, never a value a call returns) and a return at the end
// of the history, so a model's Step must accept an Unknown output with any
// state change the input can make, and none (the built-in models do; see
// models.go for how they keep that cheap).
func (c *Call) Unknown() { c.end(Unknown, nil) }

// Fail records that the call failed without any effect: the checker leaves
// it out. Use it only where the code knows nothing happened (it refused the
// input, say); when in doubt, Unknown.
func (c *Call) Fail() { c.end(Failed, nil) }

func (c *Call) end(o Outcome, output any) {
	now := c.api.h.now()
	c.api.mu.Lock()
	defer c.api.mu.Unlock()
	if c.ended {
		return
	}
	c.ended, c.outcome, c.output, c.ret = true, o, output, now
}

// Operations returns the API's calls as porcupine operations, in the order
// they were called: a call that was Unknown (or never ended) returns at
// the end of the history with the output Unknown, a Failed one is left out.
// Times are nanoseconds since NewHistory.
func (a *API) Operations() []porcupine.Operation {
	a.mu.Lock()
	defer a.mu.Unlock()
	var end time.Duration
	for _, c := range a.calls {
		end = max(end, c.call, c.ret)
	}
	end++
	ops := make([]porcupine.Operation, 0, len(a.calls))
	for _, c := range a.calls {
		switch {
		case c.ended && c.outcome == Failed:
			continue
		case c.ended && c.outcome == Succeeded:
			ops = append(ops, porcupine.Operation{ClientId: c.client, Input: c.input, Call: int64(c.call), Output: c.output, Return: int64(c.ret)})
		default:
			ops = append(ops, porcupine.Operation{ClientId: c.client, Input: c.input, Call: int64(c.call), Output: Unknown, Return: int64(end), Metadata: "outcome unknown"})
		}
	}
	return ops
}

func (a *API) String() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return fmt.Sprintf("API %q (%d calls)", a.name, len(a.calls))
}
