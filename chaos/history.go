package chaos

// A History is what the code under test did with etcd, as the checkers read
// it: every KV call and every watch response of the clients it wraps, and
// the operations of the user's own API. The types below are the recorded
// form, plain values with no clientv3 types in them, so a checker can be
// table-tested on a history written by hand (History.Append) and a history
// can be printed, compared and kept.
//
// Every KV call is recorded as a transaction: a plain Get, Put or Delete is
// a Request with no compares and one operation in Then, which is what etcd
// itself does with it. Times are offsets from NewHistory on the monotonic
// clock.

import (
	"fmt"
	"strings"
	"time"
)

// Outcome says what is known of a recorded call's effect.
type Outcome int

const (
	// Succeeded: the call returned a response; it took effect once, as the
	// response says.
	Succeeded Outcome = iota
	// Failed: the call returned an error that proves it had no effect (etcd
	// refused it: a compare on a compacted revision, a bad request, an auth
	// error, ...). The checkers leave it out.
	Failed
	// Unknown: the call returned an error after it may have reached etcd (a
	// deadline, an unavailable member, a connection lost after sending). A
	// write with this outcome may have taken effect at any point after its
	// call, or never; a read with it tells nothing and is left out.
	Unknown
)

func (o Outcome) String() string {
	switch o {
	case Succeeded:
		return "succeeded"
	case Failed:
		return "failed"
	case Unknown:
		return "unknown"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// OpType is the kind of one operation in a Request.
type OpType string

// The operations of etcd's KV API.
const (
	OpGet    OpType = "get"    // a range read (Range in etcd's API)
	OpPut    OpType = "put"    //
	OpDelete OpType = "delete" // a range delete (DeleteRange)
)

// Op is one operation of a recorded Request, as clientv3.Op describes it.
type Op struct {
	Type OpType
	// Key is the key, or the start of the range when End is set.
	Key string
	// End is the range end (exclusive) of a Get or Delete over a range,
	// "" for a single key, "\x00" for every key from Key on
	// (clientv3.WithFromKey). clientv3.WithPrefix sets it to the prefix's
	// end.
	End string
	// Value of a Put.
	Value string
	// Lease of a Put: the key vanishes when the lease ends. 0 for none.
	Lease int64
	// Revision of a Get (clientv3.WithRev): read the store as it was then;
	// 0 for the latest.
	Revision int64
	// Serializable: a Get answered by whichever member the client talks to,
	// from its local state, without asking the raft leader.
	Serializable bool
	// Limit, CountOnly and KeysOnly shape a Get's answer.
	Limit     int64
	CountOnly bool
	KeysOnly  bool
	// PrevKV asks a Put or Delete for the key-values it replaced.
	PrevKV bool
	// IgnoreValue and IgnoreLease: a Put that keeps the key's value or
	// lease.
	IgnoreValue, IgnoreLease bool
}

// Ranged says whether op reads or deletes a range rather than one key.
func (op Op) Ranged() bool { return op.End != "" }

// Covers says whether key lies in op's key or range.
func (op Op) Covers(key string) bool { return inRange(key, op.Key, op.End) }

func inRange(key, start, end string) bool {
	switch end {
	case "":
		return key == start
	case "\x00":
		return key >= start
	}
	return key >= start && key < end
}

func (op Op) String() string {
	k := op.Key
	switch op.End {
	case "":
	case "\x00":
		k += ".."
	default:
		if p := prefixOf(op.Key, op.End); p {
			k += "*"
		} else {
			k = fmt.Sprintf("[%s, %s)", op.Key, op.End)
		}
	}
	switch op.Type {
	case OpPut:
		s := fmt.Sprintf("put %s=%q", k, op.Value)
		if op.Lease != 0 {
			s += fmt.Sprintf(" lease %x", op.Lease)
		}
		return s
	case OpGet:
		s := "get " + k
		if op.Revision != 0 {
			s += fmt.Sprintf(" @%d", op.Revision)
		}
		if op.Serializable {
			s += " (serializable)"
		}
		return s
	}
	return fmt.Sprintf("%s %s", op.Type, k)
}

// prefixOf says whether end is the clientv3.GetPrefixRangeEnd of key.
func prefixOf(key, end string) bool {
	b := []byte(key)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]) == end
		}
	}
	return end == "\x00"
}

// CompareTarget is what a Compare looks at.
type CompareTarget string

// The targets of etcd's compares.
const (
	CompareValue   CompareTarget = "value"
	CompareVersion CompareTarget = "version"
	CompareCreate  CompareTarget = "create"
	CompareMod     CompareTarget = "mod"
	CompareLease   CompareTarget = "lease"
)

// Compare is one condition of a transaction (clientv3.Cmp).
type Compare struct {
	Key, End string        // as in Op: End is "" for a single key
	Target   CompareTarget //
	Result   string        // "=", "!=", "<" or ">"
	// Value is compared for CompareValue; Number for the others (a
	// version, a create or mod revision, a lease ID).
	Value  string
	Number int64
}

func (c Compare) String() string {
	k := c.Key
	if c.End != "" {
		k += ".."
	}
	if c.Target == CompareValue {
		return fmt.Sprintf("value(%s) %s %q", k, c.Result, c.Value)
	}
	return fmt.Sprintf("%s(%s) %s %d", c.Target, k, c.Result, c.Number)
}

// Request is one recorded KV call: a transaction. Get, Put and Delete are
// a Request with one operation in Then; Txn says the call was a Txn.
type Request struct {
	Txn      bool
	Compares []Compare
	Then     []Op
	Else     []Op
}

// Keys lists the single keys the request names, in its compares and
// operations (ranges not included), each once.
func (r Request) Keys() []string {
	var keys []string
	seen := map[string]bool{}
	add := func(k, end string) {
		if end == "" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for _, c := range r.Compares {
		add(c.Key, c.End)
	}
	for _, op := range r.Then {
		add(op.Key, op.End)
	}
	for _, op := range r.Else {
		add(op.Key, op.End)
	}
	return keys
}

// Writes says whether the request can change the store.
func (r Request) Writes() bool {
	for _, ops := range [][]Op{r.Then, r.Else} {
		for _, op := range ops {
			if op.Type != OpGet {
				return true
			}
		}
	}
	return false
}

func (r Request) String() string {
	ops := func(os []Op) string {
		s := make([]string, len(os))
		for i, o := range os {
			s[i] = o.String()
		}
		return strings.Join(s, "; ")
	}
	if !r.Txn {
		return ops(r.Then)
	}
	cs := make([]string, len(r.Compares))
	for i, c := range r.Compares {
		cs[i] = c.String()
	}
	s := fmt.Sprintf("txn if %s then %s", strings.Join(cs, " && "), ops(r.Then))
	if len(r.Else) > 0 {
		s += " else " + ops(r.Else)
	}
	return s
}

// KV is a key-value as etcd returns it (mvccpb.KeyValue).
type KV struct {
	Key, Value     string
	CreateRevision int64 // the revision that created the key (since it last did not exist)
	ModRevision    int64 // the revision of its last write
	Version        int64 // writes since it was created: 1 after the first Put
	Lease          int64
}

// Result is the answer to one Op.
type Result struct {
	KVs     []KV  // a Get's key-values (no values when KeysOnly)
	Count   int64 // a Get's count of keys in range, whatever Limit
	More    bool  // a Get had more keys than Limit
	Deleted int64 // a Delete's count
	PrevKVs []KV  // a Put's or Delete's replaced key-values (PrevKV)
}

// Response is a recorded call's answer.
type Response struct {
	// Revision is the store's revision when the call was served (the
	// response header's): after a write, the revision it created.
	Revision  int64
	Succeeded bool     // which branch a Txn took (true for plain calls)
	Results   []Result // one per op of the branch taken
	Member    uint64   // the member that answered (header's member ID)
}

// Operation is one recorded KV call.
type Operation struct {
	Client   int           // the recording client (0 for the first History.Client)
	Call     time.Duration // when it was called, since NewHistory
	Return   time.Duration // when it returned
	Request  Request
	Outcome  Outcome
	Response *Response // when Outcome is Succeeded
	Err      error     // when it is not
}

func (o Operation) String() string {
	s := fmt.Sprintf("client %d %s [%s, %s]", o.Client, o.Request, fmtAt(o.Call), fmtAt(o.Return))
	switch o.Outcome {
	case Succeeded:
		if r := o.Response; r != nil {
			s += fmt.Sprintf(" -> rev %d", r.Revision)
			if o.Request.Txn {
				s += fmt.Sprintf(" succeeded=%v", r.Succeeded)
			}
			for _, res := range r.Results {
				for _, kv := range res.KVs {
					s += fmt.Sprintf(" %s=%q(mod %d)", kv.Key, kv.Value, kv.ModRevision)
				}
			}
		}
	default:
		s += fmt.Sprintf(" -> %s: %v", o.Outcome, o.Err)
	}
	return s
}

func fmtAt(d time.Duration) string { return fmt.Sprintf("+%.3fs", d.Seconds()) }

// EventType is a watch event's kind.
type EventType string

// The kinds of watch events.
const (
	EventPut    EventType = "put"
	EventDelete EventType = "delete"
)

// WatchEvent is one change a watch delivered (clientv3.Event). For a delete,
// KV holds the key and the revision of the delete in ModRevision.
type WatchEvent struct {
	Type   EventType
	KV     KV
	PrevKV *KV // when the watch asked for it (clientv3.WithPrevKV)
}

// WatchResponse is one response a watch delivered to the code.
type WatchResponse struct {
	At              time.Duration // when the code could read it, since NewHistory
	Revision        int64         // the header's revision
	Events          []WatchEvent
	Created         bool   // the watch's creation notice
	Progress        bool   // a progress notification (no events, not created)
	Canceled        bool   // the watch ended: Err says why
	CompactRevision int64  // set when the watch ended because its start was compacted
	Err             string // the response's error, if any
}

// Watch is one recorded Watch call and everything it delivered.
type Watch struct {
	Client int
	Call   time.Duration // when Watch was called
	// Key and End are the watched key or range (End as in Op).
	Key, End string
	// Revision is where the watch started (clientv3.WithRev); 0 means "from
	// the next revision": the first response's header tells which.
	Revision int64
	// NoPut and NoDelete are the watch's filters.
	NoPut, NoDelete bool
	PrevKV          bool
	Responses       []WatchResponse
	// Closed is when the channel was closed (0 if it was still open at Stop).
	Closed time.Duration
}

// Covers says whether key is watched by w.
func (w Watch) Covers(key string) bool { return inRange(key, w.Key, w.End) }

func (w Watch) String() string {
	k := w.Key
	if w.End != "" {
		k = Op{Type: OpGet, Key: w.Key, End: w.End}.String()[len("get "):]
	}
	s := fmt.Sprintf("client %d watch %s", w.Client, k)
	if w.Revision != 0 {
		s += fmt.Sprintf(" from rev %d", w.Revision)
	}
	return s + " at " + fmtAt(w.Call)
}

// FaultWindow is a fault that was in force while the history was
// recorded: a chaos.Run step, noted through Options.History.
type FaultWindow struct {
	What       string        // "kill node2 (raft leader)"
	Start, End time.Duration // since NewHistory; End is 0 if it was never healed
}
