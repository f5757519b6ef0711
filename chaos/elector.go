package chaos

// An elector is anything that takes part in an election and knows whether it
// believes it won. The recorder asks nothing more; what else an elector can
// tell (its fencing token, its select events) it tells through the optional
// interfaces below, found by type assertion, so an adapter for any library
// is a few lines.

import "context"

// Elector is one participant in an election. *locker.Node satisfies it; see
// the package doc for a 10-line adapter around concurrency.Election.
//
// Elected must be cheap and safe to call from another goroutine: a
// Recording calls it every half millisecond.
type Elector interface {
	ID() string    // names the elector in reports; unique among those recorded together
	Elected() bool // whether it believes it is elected right now
}

// Fenced is an Elector that has a fencing token: a number that strictly
// increases with each new election (etcd: the create revision of the
// leader's key). A Recording reads it instead of Elected and reports tokens
// that did not grow across leaders. *locker.Node satisfies it.
type Fenced interface {
	Elector
	// FencingToken returns the token of this elector's election and true
	// while it believes it is elected, read at one instant; 0 and false
	// otherwise.
	FencingToken() (token int64, elected bool)
}

// Selecting is an Elector that reports its elections as they happen: fn is
// called when it is elected, with a context that ends when it no longer is.
// A Recording registers a hook and lists those events in its Report, next to
// what sampling saw. *locker.Node satisfies it.
type Selecting interface {
	Elector
	OnSelect(fn func(ctx context.Context, value string))
}

// Elected returns the IDs of the electors that believe they are elected
// now, in the order given: for Eventually(...).Should(HaveLen(1)) and for
// messages.
func Elected[E Elector](electors ...E) []string {
	var ids []string
	for _, e := range electors {
		if e.Elected() {
			ids = append(ids, e.ID())
		}
	}
	return ids
}

// read is one elector's belief at one instant, and its token if it has one.
func read(e Elector) (elected bool, token int64) {
	if f, ok := e.(Fenced); ok {
		token, elected = f.FencingToken()
		return elected, token
	}
	return e.Elected(), 0
}

// Electors converts a slice of any elector type to []Elector, for Record:
//
//	rec := chaos.Record(chaos.Electors(nodes...)...) // nodes []*locker.Node
func Electors[E Elector](es ...E) []Elector {
	out := make([]Elector, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}
