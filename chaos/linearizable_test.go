package chaos

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// Synthetic histories for CheckLinearizable: times in milliseconds since
// NewHistory, revisions as etcd would give them.

func linMS(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func linKV(key, value string, create, mod, version int64) KV {
	return KV{Key: key, Value: value, CreateRevision: create, ModRevision: mod, Version: version}
}

func linCall(client, from, to int, req Request, resp *Response) Operation {
	return Operation{Client: client, Call: linMS(from), Return: linMS(to), Request: req, Response: resp}
}

func linPut(client, from, to int, key, value string, rev int64) Operation {
	return linCall(client, from, to, Request{Then: []Op{{Type: OpPut, Key: key, Value: value}}},
		&Response{Revision: rev, Succeeded: true, Results: []Result{{}}})
}

func linLeasedPut(client, from, to int, key, value string, lease, rev int64) Operation {
	op := linPut(client, from, to, key, value, rev)
	op.Request.Then[0].Lease = lease
	return op
}

// linGet reads key at header revision rev and finds kvs (none: absent).
func linGet(client, from, to int, key string, rev int64, kvs ...KV) Operation {
	return linCall(client, from, to, Request{Then: []Op{{Type: OpGet, Key: key}}},
		&Response{Revision: rev, Succeeded: true, Results: []Result{{KVs: kvs, Count: int64(len(kvs))}}})
}

func linSerializable(op Operation) Operation {
	op.Request.Then[0].Serializable = true
	return op
}

func linAtRev(op Operation, rev int64) Operation {
	op.Request.Then[0].Revision = rev
	return op
}

func linPrefixGet(client, from, to int, prefix string, rev int64, kvs ...KV) Operation {
	return linCall(client, from, to, Request{Then: []Op{{Type: OpGet, Key: prefix, End: prefix[:len(prefix)-1] + string(prefix[len(prefix)-1]+1)}}},
		&Response{Revision: rev, Succeeded: true, Results: []Result{{KVs: kvs, Count: int64(len(kvs))}}})
}

func linDelete(client, from, to int, key string, rev, deleted int64) Operation {
	return linCall(client, from, to, Request{Then: []Op{{Type: OpDelete, Key: key}}},
		&Response{Revision: rev, Succeeded: true, Results: []Result{{Deleted: deleted}}})
}

// casCall: txn if <cmp> then put key=value else get key.
func linCAS(client, from, to int, cmp Compare, key, value string, rev int64, succeeded bool, elseKVs ...KV) Operation {
	req := Request{Txn: true, Compares: []Compare{cmp}, Then: []Op{{Type: OpPut, Key: key, Value: value}}, Else: []Op{{Type: OpGet, Key: key}}}
	resp := &Response{Revision: rev, Succeeded: succeeded, Results: []Result{{}}}
	if !succeeded {
		resp.Results = []Result{{KVs: elseKVs, Count: int64(len(elseKVs))}}
	}
	return linCall(client, from, to, req, resp)
}

func linUnknown(op Operation) Operation {
	op.Outcome, op.Response, op.Err = Unknown, nil, errors.New("context deadline exceeded")
	return op
}

func linHistory(ops ...Operation) *History {
	h := NewHistory()
	h.Append(ops...)
	return h
}

type linCase struct {
	name string
	ops  []Operation
	opts []CheckOption
	ok   bool
	// want are texts the verdict must contain (failing cases).
	want []string
	// partitions, when not 0, is how many the check must have made.
	partitions int
}

func runLinChecks(t *testing.T, cases []linCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := linHistory(tc.ops...).CheckLinearizable(tc.opts...)
			if l.OK() != tc.ok {
				t.Fatalf("OK() = %v, want %v:\n%s", l.OK(), tc.ok, l)
			}
			msg := l.String()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("the verdict does not say %q:\n%s", w, msg)
				}
			}
			if tc.partitions != 0 && l.Partitions != tc.partitions {
				t.Errorf("Partitions = %d, want %d:\n%s", l.Partitions, tc.partitions, msg)
			}
			if !tc.ok && strings.Contains(msg, "undecided") {
				t.Errorf("a small history must be decided:\n%s", msg)
			}
		})
	}
}

func TestCheckStaleRead(t *testing.T) {
	v1 := linKV("/k", "v1", 2, 2, 1)
	v2 := linKV("/k", "v2", 2, 3, 2)
	runLinChecks(t, []linCase{{
		name: "a Get after a completed Put returns the old value",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linPut(0, 20, 30, "/k", "v2", 3),
			linGet(1, 40, 50, "/k", 3, v1),
		},
		want: []string{`key "/k": no order`, `client 1 +0.040s..+0.050s: get /k -> /k="v1" (create 2, mod 2, version 1) at rev 3`,
			`cannot follow: "/k" is "v2" (create 2, mod 3, version 2) by then`},
	}, {
		name: "near miss: the Get overlaps the Put, so it may come first",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linPut(0, 20, 30, "/k", "v2", 3),
			linGet(1, 25, 35, "/k", 2, v1),
			linGet(1, 40, 50, "/k", 3, v2),
		},
		ok: true,
	}, {
		name: "a read that saw the new value, then one that sees the old",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linPut(0, 20, 60, "/k", "v2", 3),
			linGet(1, 25, 30, "/k", 3, v2),
			linGet(2, 35, 40, "/k", 2, v1),
		},
		want: []string{`key "/k"`, "client 2", `/k="v1"`},
	}})
}

func TestCheckLostWrite(t *testing.T) {
	runLinChecks(t, []linCase{{
		name: "a completed Put is never visible to later reads",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linGet(1, 20, 30, "/k", 2),
			linGet(1, 40, 50, "/k", 2),
		},
		want: []string{`key "/k"`, "client 1", `get /k -> /k absent at rev 2`, `cannot follow: "/k" is "v1"`, "has no lease that could have ended"},
	}, {
		name: "near miss: another client deleted it in between",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linDelete(2, 12, 18, "/k", 3, 1),
			linGet(1, 20, 30, "/k", 3),
			linGet(1, 40, 50, "/k", 3),
		},
		ok: true,
	}, {
		name: "a Delete that deleted nothing although the key exists",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linDelete(1, 20, 30, "/k", 2, 0),
		},
		want: []string{`key "/k"`, "delete /k -> deleted 0 at rev 2"},
	}})
}

func TestCheckValueFromNowhere(t *testing.T) {
	runLinChecks(t, []linCase{{
		name: "a read returns a value no one wrote",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linGet(1, 20, 30, "/k", 2, linKV("/k", "zz", 2, 2, 1)),
		},
		want: []string{`key "/k"`, `not /k="zz" (create 2, mod 2, version 1) (value differs)`},
	}, {
		name: "a read shows a revision no write had",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linGet(1, 20, 30, "/k", 7, linKV("/k", "v1", 2, 7, 1)),
		},
		want: []string{`key "/k"`, "etcd never answers"},
	}, {
		name: "near miss: the first read of a key written before recording fixes its state",
		ops: []Operation{
			linGet(1, 0, 10, "/k", 9, linKV("/k", "seeded", 4, 9, 3)),
			linPut(0, 20, 30, "/k", "v1", 10),
			linGet(1, 40, 50, "/k", 10, linKV("/k", "v1", 4, 10, 4)),
		},
		ok: true,
	}, {
		name: "a second read of a key not written since contradicts the first",
		ops: []Operation{
			linGet(1, 0, 10, "/k", 9, linKV("/k", "seeded", 4, 9, 3)),
			linGet(2, 20, 30, "/k", 9, linKV("/k", "other", 4, 9, 3)),
		},
		want: []string{`key "/k"`, "client 2", `"/k" is "seeded"`},
	}, {
		name: "near miss: the first write to a key not yet observed may have created it or not",
		ops: []Operation{
			linPut(0, 0, 10, "/a", "1", 5),
			linGet(1, 20, 30, "/a", 5, linKV("/a", "1", 5, 5, 1)),
			linPut(0, 0, 10, "/b", "1", 6),
			linGet(1, 20, 30, "/b", 6, linKV("/b", "1", 2, 6, 3)),
		},
		ok: true,
	}})
}

func TestCheckRevisionBackwards(t *testing.T) {
	runLinChecks(t, []linCase{{
		name: "a write after a read at header 10 takes revision 9",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linGet(1, 20, 30, "/k", 10, linKV("/k", "v1", 2, 2, 1)),
			linPut(0, 40, 50, "/k", "v2", 9),
		},
		want: []string{`key "/k"`, "client 0 +0.040s..+0.050s: put /k=\"v2\"", "its rev 9 is not above rev 10"},
	}, {
		name: "near miss: it takes revision 11",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linGet(1, 20, 30, "/k", 10, linKV("/k", "v1", 2, 2, 1)),
			linPut(0, 40, 50, "/k", "v2", 11),
		},
		ok: true,
	}, {
		name: "mod revisions decrease across two sequential Puts",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 5),
			linPut(1, 20, 30, "/k", "v2", 4),
		},
		want: []string{`key "/k"`, "client 1", "its rev 4 is not above rev 5"},
	}, {
		name: "near miss: the two Puts overlap, so the one at revision 4 came first",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 5),
			linPut(1, 5, 15, "/k", "v2", 4),
			linGet(2, 20, 30, "/k", 5, linKV("/k", "v1", 4, 5, 2)),
		},
		ok: true,
	}, {
		name: "a read served at a revision below the key's last write",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 5),
			linGet(1, 20, 30, "/k", 4, linKV("/k", "v1", 5, 5, 1)),
		},
		want: []string{`key "/k"`, "etcd never answers"},
	}, {
		name: "a key read absent at a revision below its delete",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 5),
			linDelete(0, 20, 30, "/k", 8, 1),
			linGet(1, 40, 50, "/k", 6),
		},
		want: []string{`key "/k"`, `served at rev 6, but "/k" was deleted at rev 8 before it`},
	}})
}

func TestCheckCompareAndSwap(t *testing.T) {
	mod2 := Compare{Key: "/k", Target: CompareMod, Result: "=", Number: 2}
	isV1 := Compare{Key: "/k", Target: CompareValue, Result: "=", Value: "v1"}
	missing := Compare{Key: "/k", Target: CompareVersion, Result: "=", Number: 0}
	v1 := linKV("/k", "v1", 2, 2, 1)
	runLinChecks(t, []linCase{{
		name: "a CAS on the mod revision takes the else branch although the compare holds",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linCAS(1, 20, 30, mod2, "/k", "v2", 2, false, v1),
		},
		want: []string{`key "/k"`, "client 1", "txn if mod(/k) = 2 then put /k=\"v2\" else get /k -> took else", "its compares are true by then, but it took the else branch"},
	}, {
		name: "near miss: it takes the then branch",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linCAS(1, 20, 30, mod2, "/k", "v2", 3, true),
			linGet(2, 40, 50, "/k", 3, linKV("/k", "v2", 2, 3, 2)),
		},
		ok: true,
	}, {
		name: "a CAS on the value succeeds although the value changed before it",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linPut(0, 12, 18, "/k", "other", 3),
			linCAS(1, 20, 30, isV1, "/k", "v2", 4, true),
		},
		want: []string{`key "/k"`, "its compares are false by then, but it took the then branch"},
	}, {
		name: "near miss: the change overlaps the CAS, so the CAS may come first",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linPut(0, 12, 40, "/k", "other", 4),
			linCAS(1, 20, 30, isV1, "/k", "v2", 3, true),
			linGet(2, 50, 60, "/k", 4, linKV("/k", "other", 2, 4, 3)),
		},
		ok: true,
	}, {
		name: "create-if-missing on a key that exists succeeds",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linCAS(1, 20, 30, missing, "/k", "v2", 3, true),
		},
		want: []string{`key "/k"`, "its compares are false by then"},
	}, {
		name: "near miss: create-if-missing on a key never seen before takes the then branch",
		ops: []Operation{
			linCAS(1, 0, 10, missing, "/k", "v1", 3, true),
			linGet(2, 20, 30, "/k", 3, linKV("/k", "v1", 3, 3, 1)),
		},
		ok: true,
	}})
}

func TestCheckUnknownOutcome(t *testing.T) {
	v1 := linKV("/k", "v1", 2, 2, 1)
	runLinChecks(t, []linCase{{
		name: "near miss: a write of unknown outcome is seen later",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linUnknown(linPut(0, 20, 30, "/k", "v2", 0)),
			linGet(1, 100, 110, "/k", 7, linKV("/k", "v2", 2, 7, 2)),
		},
		ok: true,
	}, {
		name: "near miss: a write of unknown outcome is never seen",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linUnknown(linPut(0, 20, 30, "/k", "v2", 0)),
			linGet(1, 100, 110, "/k", 7, v1),
		},
		ok: true,
	}, {
		name: "near miss: it took effect unseen and was overwritten; the version tells",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linUnknown(linPut(0, 20, 30, "/k", "v2", 0)),
			linPut(1, 100, 110, "/k", "v3", 9),
			linGet(1, 120, 130, "/k", 9, linKV("/k", "v3", 2, 9, 3)),
		},
		ok: true,
	}, {
		name: "near miss: two of three unseen writes of unknown outcome took effect; the version tells",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linUnknown(linPut(1, 20, 30, "/k", "u1", 0)),
			linUnknown(linPut(2, 25, 35, "/k", "u2", 0)),
			linUnknown(linDelete(3, 26, 36, "/k", 0, 0)),
			linPut(0, 100, 110, "/k", "v3", 9),
			linGet(1, 120, 130, "/k", 9, linKV("/k", "v3", 2, 9, 4)),
		},
		ok: true,
	}, {
		name: "the version counts more writes than there were",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linUnknown(linPut(1, 20, 30, "/k", "u1", 0)),
			linUnknown(linPut(2, 25, 35, "/k", "u2", 0)),
			linPut(0, 100, 110, "/k", "v3", 9),
			linGet(1, 120, 130, "/k", 9, linKV("/k", "v3", 2, 9, 5)),
		},
		want: []string{`key "/k"`, "client 1 +0.120s..+0.130s", "(version differs)"},
	}, {
		name: "an unseen write of unknown outcome cannot explain a value no one wrote",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linUnknown(linPut(1, 20, 30, "/k", "u1", 0)),
			linGet(2, 40, 50, "/k", 5, linKV("/k", "zz", 2, 5, 2)),
		},
		want: []string{`key "/k"`, "client 2", `not /k="zz"`},
	}, {
		name: "it was seen, then the old value is back",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linUnknown(linPut(0, 20, 30, "/k", "v2", 0)),
			linGet(1, 100, 110, "/k", 7, linKV("/k", "v2", 2, 7, 2)),
			linGet(2, 120, 130, "/k", 7, v1),
		},
		want: []string{`key "/k"`, "client 2", `"/k" is "v2" (create 2, mod 7, version 2) by then`},
	}, {
		name: "near miss: an unknown read is left out",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linUnknown(linGet(1, 20, 30, "/k", 0)),
		},
		ok: true,
	}, {
		name: "near miss: a failed write is left out",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			func() Operation {
				op := linPut(1, 20, 30, "/k", "v2", 0)
				op.Outcome, op.Response = Failed, nil
				return op
			}(),
			linGet(1, 40, 50, "/k", 2, v1),
		},
		ok: true,
	}, {
		name: "near miss: a CAS of unknown outcome took the branch its compare chose",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linUnknown(linCAS(1, 20, 30, Compare{Key: "/k", Target: CompareValue, Result: "=", Value: "v1"}, "/k", "v2", 0, true)),
			linGet(2, 40, 50, "/k", 5, linKV("/k", "v2", 2, 5, 2)),
		},
		ok: true,
	}, {
		name: "a CAS of unknown outcome whose compare fails cannot have written",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linUnknown(linCAS(1, 20, 30, Compare{Key: "/k", Target: CompareValue, Result: "=", Value: "nope"}, "/k", "v2", 0, true)),
			linGet(2, 40, 50, "/k", 5, linKV("/k", "v2", 2, 5, 2)),
		},
		want: []string{`key "/k"`, "client 2"},
	}})
}

func TestCheckLease(t *testing.T) {
	runLinChecks(t, []linCase{{
		name: "near miss: a key written with a lease vanishes",
		ops: []Operation{
			linLeasedPut(0, 0, 10, "/k", "v1", 0x1a, 2),
			linGet(1, 20, 30, "/k", 2, KV{Key: "/k", Value: "v1", CreateRevision: 2, ModRevision: 2, Version: 1, Lease: 0x1a}),
			linGet(1, 40, 50, "/k", 3),
			linDelete(1, 60, 70, "/k", 3, 0),
		},
		ok: true,
	}, {
		name: "near miss: it vanished, and a Put creates it anew",
		ops: []Operation{
			linLeasedPut(0, 0, 10, "/k", "v1", 0x1a, 2),
			linGet(1, 20, 30, "/k", 3),
			linPut(0, 40, 50, "/k", "v2", 4),
			linGet(1, 60, 70, "/k", 4, linKV("/k", "v2", 4, 4, 1)),
		},
		ok: true,
	}, {
		name: "once vanished it stays absent until the next write",
		ops: []Operation{
			linLeasedPut(0, 0, 10, "/k", "v1", 0x1a, 2),
			linGet(1, 20, 30, "/k", 3),
			linGet(2, 40, 50, "/k", 3, KV{Key: "/k", Value: "v1", CreateRevision: 2, ModRevision: 2, Version: 1, Lease: 0x1a}),
		},
		want: []string{`key "/k"`, "client 2", `"/k" is absent (deleted at rev ≥3) by then`},
	}, {
		name: "its vanishing takes a revision: a read at the write's own revision cannot miss it",
		ops: []Operation{
			linLeasedPut(0, 0, 10, "/k", "v1", 0x1a, 2),
			linGet(1, 20, 30, "/k", 2),
		},
		want: []string{`key "/k"`, `served at rev 2, but "/k" was deleted after rev 3 before it`},
	}})
}

func TestCheckSerializable(t *testing.T) {
	v1 := linKV("/k", "v1", 2, 2, 1)
	stale := []Operation{
		linPut(0, 0, 10, "/k", "v1", 2),
		linPut(0, 20, 30, "/k", "v2", 3),
		linSerializable(linGet(1, 40, 50, "/k", 2, v1)),
	}
	runLinChecks(t, []linCase{{
		name: "a stale serializable read fails by default, and says it was serializable",
		ops:  stale,
		want: []string{`key "/k"`, "client 1", "get /k (serializable)", "the read was serializable: it may be served stale by a member cut off from the leader; AllowStaleSerializable() accepts that"},
	}, {
		name: "near miss: AllowStaleSerializable accepts it",
		ops:  stale,
		opts: []CheckOption{AllowStaleSerializable()},
		ok:   true,
	}, {
		name: "a serializable read of a value never written still fails",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linPut(0, 20, 30, "/k", "v2", 3),
			linSerializable(linGet(1, 40, 50, "/k", 2, linKV("/k", "zz", 2, 2, 1))),
		},
		opts: []CheckOption{AllowStaleSerializable()},
		want: []string{`key "/k"`, "client 1", "get /k (serializable)"},
	}, {
		name: "a stale read cannot show a write called after it returned",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linSerializable(linGet(1, 20, 30, "/k", 3, linKV("/k", "v2", 2, 3, 2))),
			linPut(0, 40, 50, "/k", "v2", 3),
		},
		opts: []CheckOption{AllowStaleSerializable()},
		want: []string{`key "/k"`},
	}, {
		name: "near miss: a read at a past revision returns the state of then",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linPut(0, 20, 30, "/k", "v2", 3),
			linAtRev(linGet(1, 40, 50, "/k", 3, v1), 2),
		},
		ok: true,
	}, {
		name: "a read at a past revision misses a write of that revision",
		ops: []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linPut(0, 20, 30, "/k", "v2", 3),
			linAtRev(linGet(1, 40, 50, "/k", 3, v1), 3),
		},
		want: []string{`key "/k"`, "get /k @3"},
	}})
}

func TestCheckMultiKey(t *testing.T) {
	a1 := linKV("/p/a", "1", 2, 2, 1)
	b1 := linKV("/p/b", "1", 3, 3, 1)
	move := linCall(1, 20, 30, Request{Txn: true,
		Compares: []Compare{{Key: "/p/a", Target: CompareValue, Result: "=", Value: "1"}},
		Then:     []Op{{Type: OpPut, Key: "/p/a", Value: "0"}, {Type: OpPut, Key: "/p/b", Value: "2"}}},
		&Response{Revision: 4, Succeeded: true, Results: []Result{{}, {}}})
	runLinChecks(t, []linCase{{
		name: "a prefix Get after a two-key Txn sees one key new and the other old",
		ops: []Operation{
			linPut(0, 0, 5, "/p/a", "1", 2),
			linPut(0, 6, 10, "/p/b", "1", 3),
			move,
			linPrefixGet(2, 40, 50, "/p/", 4, linKV("/p/a", "0", 2, 4, 2), b1),
		},
		want:       []string{`keys "/p/a", "/p/b": no order`, "client 2", `get /p/* -> /p/a="0"`, `"/p/b" is "2"`},
		partitions: 1,
	}, {
		name: "near miss: it sees both new",
		ops: []Operation{
			linPut(0, 0, 5, "/p/a", "1", 2),
			linPut(0, 6, 10, "/p/b", "1", 3),
			move,
			linPrefixGet(2, 40, 50, "/p/", 4, linKV("/p/a", "0", 2, 4, 2), linKV("/p/b", "2", 3, 4, 2)),
		},
		ok:         true,
		partitions: 1,
	}, {
		name: "near miss: a prefix Get overlapping the Txn sees both old",
		ops: []Operation{
			linPut(0, 0, 5, "/p/a", "1", 2),
			linPut(0, 6, 10, "/p/b", "1", 3),
			move,
			linPrefixGet(2, 25, 35, "/p/", 3, a1, b1),
		},
		ok: true,
	}, {
		name: "a prefix Get that leaves out an existing key",
		ops: []Operation{
			linPut(0, 0, 5, "/p/a", "1", 2),
			linPut(0, 6, 10, "/p/b", "1", 3),
			linPrefixGet(2, 25, 35, "/p/", 3, a1),
		},
		want: []string{`keys "/p/a", "/p/b"`, `"/p/b" is "1"`},
	}, {
		name: "near miss: keys no multi-key call joins are checked apart",
		ops: []Operation{
			linPut(0, 0, 5, "/p/a", "1", 2),
			linPut(0, 6, 10, "/p/b", "1", 3),
			linGet(1, 20, 30, "/p/a", 3, a1),
		},
		ok:         true,
		partitions: 2,
	}})
}

// linRegister is a user's porcupine model: a register holding an int, written
// and read.
type linRegInput struct {
	write bool
	value int
}

var linRegister = porcupine.Model{
	Init: func() any { return 0 },
	Step: func(state, in, out any) (bool, any) {
		i := in.(linRegInput)
		if i.write {
			return true, i.value
		}
		return out == nil || out.(int) == state.(int), state
	},
	DescribeOperation: func(in, out any) string {
		if i := in.(linRegInput); i.write {
			return fmt.Sprintf("write(%d)", i.value)
		}
		return fmt.Sprintf("read() -> %v", out)
	},
	DescribeState: func(s any) string { return fmt.Sprintf("register = %d", s) },
}

func TestCheckAPI(t *testing.T) {
	for _, tc := range []struct {
		name string
		read int // what the read returns
		ok   bool
	}{
		{"a read after a completed write returns the old value", 0, false},
		{"near miss: it returns the written value", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHistory()
			reg := h.API("register", linRegister)
			reg.Call(0, linRegInput{write: true, value: 1}).Return(nil)
			reg.Call(1, linRegInput{}).Return(tc.read)
			l := h.CheckLinearizable()
			if l.OK() != tc.ok {
				t.Fatalf("OK() = %v, want %v:\n%s", l.OK(), tc.ok, l)
			}
			if tc.ok {
				return
			}
			v := l.Violations[0]
			if v.API != "register" || len(v.Keys) != 0 {
				t.Errorf("violation names API %q, keys %q; want the API alone", v.API, v.Keys)
			}
			for _, w := range []string{`API "register": no order of its 2 calls`, "ends in: register = 1", "client 1", "read() -> 0", "the model refuses it"} {
				if !strings.Contains(l.String(), w) {
					t.Errorf("the verdict does not say %q:\n%s", w, l)
				}
			}
		})
	}
}

func TestCheckFaultsInForce(t *testing.T) {
	h := linHistory(
		linPut(0, 0, 10, "/k", "v1", 2),
		linPut(0, 20, 30, "/k", "v2", 3),
		linSerializable(linGet(1, 40, 50, "/k", 2, linKV("/k", "v1", 2, 2, 1))),
	)
	h.faults = []FaultWindow{{What: "isolate node2", Start: linMS(35), End: linMS(80)}, {What: "kill node1", Start: linMS(90)}}
	l := h.CheckLinearizable()
	if l.OK() {
		t.Fatal("a stale read passed")
	}
	msg := l.String()
	for _, w := range []string{"client 1 +0.040s..+0.050s", "faults in force: isolate node2 (+0.035s..+0.080s)"} {
		if !strings.Contains(msg, w) {
			t.Errorf("the verdict does not say %q:\n%s", w, msg)
		}
	}
	if strings.Contains(msg, "kill node1") {
		t.Errorf("the verdict names a fault that began after the read:\n%s", msg)
	}
	if got := l.Violations[0].Frontier[0].Faults; len(got) != 1 || got[0].What != "isolate node2" {
		t.Errorf("Frontier[0].Faults = %v, want the isolation alone", got)
	}
}

func TestCheckUndecided(t *testing.T) {
	// Thirty concurrent writes of unknown outcome, each of whose values a
	// later read shows (so each must be checked on its own), and before
	// those reads one that shows a value none of them wrote: proving that
	// no subset of the writes, in no order, explains it takes porcupine
	// 2^30 steps.
	ops := []Operation{linPut(0, 0, 10, "/k", "v0", 2)}
	for i := range 30 {
		ops = append(ops, linUnknown(linPut(i+1, 20, 1000, "/k", fmt.Sprint("v", i+1), 0)))
	}
	ops = append(ops, linGet(31, 2000, 2010, "/k", 99, linKV("/k", "never", 2, 99, 3)))
	for i := range 30 {
		ops = append(ops, linGet(32, 3000+10*i, 3005+10*i, "/k", 200, linKV("/k", fmt.Sprint("v", i+1), 2, 100+int64(i), 2+int64(i))))
	}
	start := time.Now()
	l := linHistory(ops...).CheckLinearizable(CheckTimeout(50 * time.Millisecond))
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the check took %s with a 50ms timeout", took)
	}
	if l.OK() || len(l.Violations) != 1 || !l.Violations[0].Undecided {
		t.Fatalf("want one undecided violation, got:\n%s", l)
	}
	for _, w := range []string{`key "/k": 62 operations from 33 clients, 30 of unknown outcome: undecided after 50ms`, "raise CheckTimeout", "fewer operations per key"} {
		if !strings.Contains(l.String(), w) {
			t.Errorf("the verdict does not say %q:\n%s", w, l)
		}
	}
}

func TestCheckSaveHTML(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []Operation
	}{
		{"one failing partition", []Operation{
			linPut(0, 0, 10, "/k", "v1", 2),
			linPut(0, 20, 30, "/k", "v2", 3),
			linGet(1, 40, 50, "/k", 3, linKV("/k", "v1", 2, 2, 1)),
		}},
		{"two failing partitions, drawn together", []Operation{
			linPut(0, 0, 10, "/a", "v1", 2),
			linGet(1, 40, 50, "/a", 3),
			linPut(0, 0, 10, "/b", "v1", 4),
			linGet(1, 40, 50, "/b", 5),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := linHistory(tc.ops...)
			h.faults = []FaultWindow{{What: "isolate node2", Start: linMS(35), End: linMS(80)}}
			l := h.CheckLinearizable()
			if l.OK() {
				t.Fatal("the history passed")
			}
			dir := t.TempDir()
			path, err := l.SaveHTML(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(path, dir) || !strings.HasSuffix(path, ".html") {
				t.Errorf("path %q is not an .html file in %s", path, dir)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range []string{"<html", `"Tag":"faults"`, "isolate node2", `get /`, `"Partitions":[`} {
				if !strings.Contains(string(b), w) {
					t.Errorf("the picture lacks %q", w)
				}
			}
			if n := strings.Count(string(b), `"PartialLinearizations"`); n != len(l.Violations) {
				t.Errorf("the picture draws %d partitions, want the %d failing", n, len(l.Violations))
			}
		})
	}
	t.Run("an unwritable directory says what to set", func(t *testing.T) {
		file := t.TempDir() + "/file"
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := linHistory().CheckLinearizable().SaveHTML(file + "/sub")
		if err == nil || !strings.Contains(err.Error(), EnvArtifacts) {
			t.Errorf("err = %v, want one naming %s", err, EnvArtifacts)
		}
	})
}

func TestCheckSimulatedEtcd(t *testing.T) {
	ops := simulate(simulation{seed: 7, ops: 3000, keys: 20, clients: 8, unknown: 0.05})
	if l := linHistory(ops...).CheckLinearizable(); !l.OK() {
		t.Fatalf("a history of a correct etcd failed:\n%s", l)
	}
	// The same history with one read made stale: a read after the write
	// it saw had returned shows what the key held before that write.
	stale := -1
	var prev *KV
	for i, op := range ops {
		if i < len(ops)/2 || op.Outcome != Succeeded || op.Request.Txn || op.Request.Then[0].Type != OpGet || len(op.Response.Results[0].KVs) != 1 {
			continue
		}
		kv := op.Response.Results[0].KVs[0]
		if w := linWriter(ops, kv); w != nil && w.Return < op.Call {
			if prev = linPrevious(ops[:i], kv); prev != nil {
				stale = i
				break
			}
		}
	}
	if stale < 0 {
		t.Fatal("no read to make stale")
	}
	bad := slices.Clone(ops)
	read := bad[stale]
	kv := read.Response.Results[0].KVs[0]
	resp := *read.Response
	resp.Results = []Result{{KVs: []KV{*prev}, Count: 1}}
	read.Response = &resp
	bad[stale] = read
	l := linHistory(bad...).CheckLinearizable()
	if l.OK() {
		t.Fatalf("a stale read at %s passed", fmtAt(read.Call))
	}
	if !strings.Contains(l.String(), fmt.Sprintf("key %q", kv.Key)) {
		t.Errorf("the verdict does not name %q:\n%s", kv.Key, l)
	}
}

// linPrevious is the key-value a read in ops showed for kv's key before
// kv, if one did.
func linPrevious(ops []Operation, kv KV) *KV {
	for i := len(ops) - 1; i >= 0; i-- {
		op := ops[i]
		if op.Outcome != Succeeded || op.Request.Txn || op.Request.Then[0].Type != OpGet || op.Request.Then[0].Key != kv.Key {
			continue
		}
		if kvs := op.Response.Results[0].KVs; len(kvs) == 1 && kvs[0].ModRevision < kv.ModRevision {
			return &kvs[0]
		}
	}
	return nil
}

// linWriter is the known write in ops that made kv.
func linWriter(ops []Operation, kv KV) *Operation {
	for i, op := range ops {
		if op.Outcome == Succeeded && op.Response.Revision == kv.ModRevision && op.Request.Writes() && slices.Contains(op.Request.Keys(), kv.Key) {
			return &ops[i]
		}
	}
	return nil
}
