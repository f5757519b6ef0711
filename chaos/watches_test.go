package chaos

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// Table tests of CheckWatches on histories written by hand: for each kind
// of problem the bug it exists for and a near miss that must pass. A case
// with etcd set holds the watches to etcd's own history (h.truth, as Stop
// would have read it); without, to the recorded writes only.

type watchCase struct {
	name      string
	ops       []Operation
	watches   []Watch
	etcd      []WatchEvent // etcd's own history; used when useEtcd
	useEtcd   bool
	truthErr  error
	faults    []FaultWindow
	want      []WatchProblemKind // the problems' kinds, sorted
	announced int
	contains  []string // in String()
}

func runWatchCases(t *testing.T, cases []watchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHistory()
			h.Append(tc.ops...)
			h.AppendWatch(tc.watches...)
			if tc.useEtcd {
				h.truth = tc.etcd
				if h.truth == nil {
					h.truth = []WatchEvent{}
				}
			}
			h.truthErr = tc.truthErr
			h.faults = tc.faults
			rep := h.CheckWatches()
			var got []WatchProblemKind
			for _, p := range rep.Problems {
				got = append(got, p.Kind)
			}
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("problems %v, want %v\n%s", got, want, rep)
			}
			if rep.Reliable() != (len(tc.want) == 0) {
				t.Errorf("Reliable() = %v with %d problems", rep.Reliable(), len(rep.Problems))
			}
			if len(rep.Announced) != tc.announced {
				t.Errorf("%d announced, want %d\n%s", len(rep.Announced), tc.announced, rep)
			}
			if rep.FromEtcd != (tc.useEtcd && tc.truthErr == nil) {
				t.Errorf("FromEtcd = %v", rep.FromEtcd)
			}
			for _, s := range tc.contains {
				if !strings.Contains(rep.String(), s) {
					t.Errorf("String() lacks %q:\n%s", s, rep)
				}
			}
		})
	}
}

// at is the instant of revision rev in these histories: writes return at
// rev*10ms, watches deliver 5ms later.
func wtAt(rev int64) time.Duration { return time.Duration(rev) * 10 * time.Millisecond }

func wtPut(client int, key, value string, rev int64) Operation {
	return Operation{Client: client, Call: wtAt(rev) - time.Millisecond, Return: wtAt(rev),
		Request: Request{Then: []Op{{Type: OpPut, Key: key, Value: value}}},
		Outcome: Succeeded, Response: &Response{Revision: rev, Succeeded: true, Results: []Result{{}}}}
}

func wtDelete(client int, key string, rev int64) Operation {
	return Operation{Client: client, Call: wtAt(rev) - time.Millisecond, Return: wtAt(rev),
		Request: Request{Then: []Op{{Type: OpDelete, Key: key}}},
		Outcome: Succeeded, Response: &Response{Revision: rev, Succeeded: true, Results: []Result{{Deleted: 1}}}}
}

// wtTxn puts every key=value pair of kvs in one transaction at rev.
func wtTxn(client int, rev int64, kvs ...string) Operation {
	o := Operation{Client: client, Call: wtAt(rev) - time.Millisecond, Return: wtAt(rev), Request: Request{Txn: true},
		Outcome: Succeeded, Response: &Response{Revision: rev, Succeeded: true}}
	for i := 0; i < len(kvs); i += 2 {
		o.Request.Then = append(o.Request.Then, Op{Type: OpPut, Key: kvs[i], Value: kvs[i+1]})
		o.Response.Results = append(o.Response.Results, Result{})
	}
	return o
}

func wtGet(client int, key string, rev int64, call time.Duration) Operation {
	return Operation{Client: client, Call: call, Return: call + time.Millisecond,
		Request: Request{Then: []Op{{Type: OpGet, Key: key}}},
		Outcome: Succeeded, Response: &Response{Revision: rev, Succeeded: true, Results: []Result{{}}}}
}

func wtPutEv(key, value string, rev int64) WatchEvent {
	return WatchEvent{Type: EventPut, KV: KV{Key: key, Value: value, ModRevision: rev, CreateRevision: 2, Version: rev - 1}}
}

func wtDelEv(key string, rev int64) WatchEvent {
	return WatchEvent{Type: EventDelete, KV: KV{Key: key, ModRevision: rev}}
}

// wtEvents is one response delivering evs, at the instant of the last one.
func wtEvents(evs ...WatchEvent) WatchResponse {
	rev := evs[len(evs)-1].KV.ModRevision
	return WatchResponse{At: wtAt(rev) + 5*time.Millisecond, Revision: rev, Events: evs}
}

func wtCreated(rev int64) WatchResponse {
	return WatchResponse{At: wtAt(rev) + time.Millisecond, Revision: rev, Created: true}
}

func wtProgress(rev int64) WatchResponse {
	return WatchResponse{At: wtAt(rev) + 6*time.Millisecond, Revision: rev, Progress: true}
}

func wtCompacted(rev, compact int64) WatchResponse {
	return WatchResponse{At: wtAt(rev) + 7*time.Millisecond, Revision: rev, Canceled: true, CompactRevision: compact,
		Err: "etcdserver: mvcc: required revision has been compacted"}
}

// wtWatch is client's watch of key (a prefix when key ends in '*') from
// rev (0: from its created notice), called just before the first response.
func wtWatch(client int, key string, rev int64, rs ...WatchResponse) Watch {
	w := Watch{Client: client, Key: key, Revision: rev, Responses: rs}
	if k, ok := strings.CutSuffix(key, "*"); ok {
		w.Key, w.End = k, k[:len(k)-1]+string(k[len(k)-1]+1)
	}
	if len(rs) > 0 {
		w.Call = rs[0].At - 2*time.Millisecond
	}
	if rev > 0 {
		w.Call = wtAt(rev-1) + 2*time.Millisecond
	}
	return w
}

func wtClosed(w Watch, d time.Duration) Watch { w.Closed = d; return w }

func wtFiltered(w Watch, noPut, noDelete bool) Watch { w.NoPut, w.NoDelete = noPut, noDelete; return w }

// puts are client 0's puts of key=v<rev> at every revision from..to.
func wtPuts(key string, from, to int64) []Operation {
	var ops []Operation
	for r := from; r <= to; r++ {
		ops = append(ops, wtPut(0, key, "v"+string(rune('0'+r)), r))
	}
	return ops
}

func wtEv(key string, rev int64) WatchEvent { return wtPutEv(key, "v"+string(rune('0'+rev)), rev) }

func TestCheckWatchesGap(t *testing.T) {
	runWatchCases(t, []watchCase{{
		name:     "a revision missing in the middle fails",
		ops:      wtPuts("/a", 5, 7),
		watches:  []Watch{wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 5)), wtEvents(wtEv("/a", 7)))},
		want:     []WatchProblemKind{WatchMissing},
		contains: []string{`missing: client 1 watch /a from rev 5`, `/a at rev 6: 1 change not delivered: put /a="v6" at rev 6 (client 0's put /a="v6"`, "delivered up to rev 5 at +0.055s, then an event at rev 7 at +0.075s", "checked against the recorded writes only"},
	}, {
		name:    "every revision delivered passes",
		ops:     wtPuts("/a", 5, 7),
		watches: []Watch{wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 5)), wtEvents(wtEv("/a", 6)), wtEvents(wtEv("/a", 7)))},
	}, {
		name: "near miss: the put is filtered out by WithFilterPut",
		ops:  []Operation{wtPut(0, "/a", "x", 5), wtDelete(0, "/a", 6), wtPut(0, "/a", "y", 7), wtDelete(0, "/a", 8)},
		watches: []Watch{wtFiltered(wtWatch(1, "/a", 5,
			wtEvents(wtDelEv("/a", 6)), wtEvents(wtDelEv("/a", 8))), true, false)},
	}, {
		name: "a delete missing from a WithFilterPut watch fails",
		ops:  []Operation{wtPut(0, "/a", "x", 5), wtDelete(0, "/a", 6), wtPut(0, "/a", "y", 7), wtDelete(0, "/a", 8)},
		watches: []Watch{wtFiltered(wtWatch(1, "/a", 5,
			wtEvents(wtDelEv("/a", 8))), true, false)},
		want: []WatchProblemKind{WatchMissing},
	}, {
		name:    "near miss: the change lies outside the watched range",
		ops:     []Operation{wtPut(0, "/a/x", "v5", 5), wtPut(0, "/b", "v6", 6), wtPut(0, "/a/y", "v7", 7)},
		watches: []Watch{wtWatch(1, "/a/*", 5, wtEvents(wtEv("/a/x", 5)), wtEvents(wtEv("/a/y", 7)))},
	}, {
		name:     "a prefix watch missing a key in its range fails",
		ops:      []Operation{wtPut(0, "/a/x", "v5", 5), wtPut(0, "/a/z", "v6", 6), wtPut(0, "/a/y", "v7", 7)},
		watches:  []Watch{wtWatch(1, "/a/*", 5, wtEvents(wtEv("/a/x", 5)), wtEvents(wtEv("/a/y", 7)))},
		want:     []WatchProblemKind{WatchMissing},
		contains: []string{"client 1 watch /a/* from rev 5", "/a/z at rev 6"},
	}, {
		name:    "near miss: the change comes after the last revision delivered",
		ops:     wtPuts("/a", 5, 7),
		watches: []Watch{wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 5)), wtEvents(wtEv("/a", 6)))},
	}, {
		name: "a run of missing revisions is one problem",
		ops:  wtPuts("/a", 3, 8),
		watches: []Watch{wtWatch(1, "/a", 0, wtCreated(2),
			wtEvents(wtEv("/a", 3)), wtEvents(wtEv("/a", 8)))},
		want:     []WatchProblemKind{WatchMissing},
		contains: []string{"4 changes not delivered", "and 1 more"},
	}, {
		name:     "from the created notice: the revision right after it missing fails",
		ops:      wtPuts("/a", 5, 6),
		watches:  []Watch{wtWatch(1, "/a", 0, wtCreated(4), wtEvents(wtEv("/a", 6)))},
		want:     []WatchProblemKind{WatchMissing},
		contains: []string{"the watch's first delivery was an event at rev 6"},
	}, {
		name:    "near miss: the watch was created after it",
		ops:     wtPuts("/a", 5, 6),
		watches: []Watch{wtWatch(1, "/a", 0, wtCreated(5), wtEvents(wtEv("/a", 6)))},
	}, {
		name:     "etcd's own history: a lease expiry's delete missing fails",
		ops:      []Operation{wtPut(0, "/a", "v5", 5), wtPut(0, "/a", "v7", 7)},
		etcd:     []WatchEvent{wtEv("/a", 5), wtDelEv("/a", 6), wtEv("/a", 7)},
		useEtcd:  true,
		watches:  []Watch{wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 5)), wtEvents(wtEv("/a", 7)))},
		want:     []WatchProblemKind{WatchMissing},
		contains: []string{"1 change not delivered: delete /a at rev 6;", "missing: client 1 watch /a from rev 5"},
	}, {
		name:    "near miss: the same without etcd's history (the expiry is unknown)",
		ops:     []Operation{wtPut(0, "/a", "v5", 5), wtPut(0, "/a", "v7", 7)},
		watches: []Watch{wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 5)), wtEvents(wtEv("/a", 7)))},
	}, {
		name:     "the missing revision names the faults in force",
		ops:      wtPuts("/a", 5, 7),
		faults:   []FaultWindow{{What: "kill node2 (raft leader)", Start: wtAt(5) + 8*time.Millisecond, End: wtAt(8)}, {What: "pause node3", Start: wtAt(1), End: wtAt(2)}},
		watches:  []Watch{wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 5)), wtEvents(wtEv("/a", 7)))},
		want:     []WatchProblemKind{WatchMissing},
		contains: []string{"(at +0.075s; during kill node2 (raft leader) [+0.058s, +0.080s])"},
	}, {
		name:    "an unknown-outcome write is not required",
		ops:     append(wtPuts("/a", 5, 5), Operation{Client: 0, Call: wtAt(6), Return: wtAt(7), Request: Request{Then: []Op{{Type: OpPut, Key: "/a", Value: "u"}}}, Outcome: Unknown, Err: errors.New("context deadline exceeded")}),
		watches: []Watch{wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 5)), wtProgress(9))},
	}, {
		name:    "an unknown-outcome write's event is accepted",
		ops:     append(wtPuts("/a", 5, 5), Operation{Client: 0, Call: wtAt(6), Return: wtAt(7), Request: Request{Then: []Op{{Type: OpPut, Key: "/a", Value: "u"}}}, Outcome: Unknown, Err: errors.New("context deadline exceeded")}),
		watches: []Watch{wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 5)), wtEvents(wtPutEv("/a", "u", 6)))},
	}})
}

func TestCheckWatchesProgress(t *testing.T) {
	runWatchCases(t, []watchCase{{
		name:     "a progress notification vouches for the revisions up to it",
		ops:      wtPuts("/a", 5, 7),
		watches:  []Watch{wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 5)), wtProgress(7))},
		want:     []WatchProblemKind{WatchMissing},
		contains: []string{"2 changes not delivered", "then a progress notification at rev 7"},
	}, {
		name:    "near miss: without it nothing after rev 5 was vouched for",
		ops:     wtPuts("/a", 5, 7),
		watches: []Watch{wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 5)))},
	}, {
		name:    "near miss: a progress notification before the changes",
		ops:     wtPuts("/a", 5, 7),
		watches: []Watch{wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 5)), wtProgress(5), wtEvents(wtEv("/a", 6)), wtEvents(wtEv("/a", 7)))},
	}, {
		name:     "an event at or below a progress notification's revision fails (bookmarkable)",
		ops:      wtPuts("/a", 5, 7),
		watches:  []Watch{wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 5)), wtProgress(6), wtEvents(wtEv("/a", 6)), wtEvents(wtEv("/a", 7)))},
		want:     []WatchProblemKind{WatchUnordered},
		contains: []string{"after a progress notification at rev 6"},
	}})
}

func TestCheckWatchesDuplicate(t *testing.T) {
	txn := []Operation{wtTxn(0, 5, "/k/a", "v5", "/k/b", "v5"), wtPut(0, "/k/a", "v6", 6)}
	runWatchCases(t, []watchCase{{
		name:     "an event delivered again in a later response fails",
		ops:      txn,
		watches:  []Watch{wtWatch(1, "/k/*", 5, wtEvents(wtEv("/k/a", 5), wtEv("/k/b", 5)), wtEvents(wtEv("/k/a", 5)), wtEvents(wtEv("/k/a", 6)))},
		want:     []WatchProblemKind{WatchDuplicate},
		contains: []string{`duplicate: client 1 watch /k/* from rev 5`, `/k/a at rev 5: delivered put /k/a="v5" at rev 5 again`},
	}, {
		name:    "an event twice in one response fails",
		ops:     txn,
		watches: []Watch{wtWatch(1, "/k/*", 5, wtEvents(wtEv("/k/a", 5), wtEv("/k/b", 5), wtEv("/k/b", 5)))},
		want:    []WatchProblemKind{WatchDuplicate},
	}, {
		name:    "near miss: two keys at one revision of one txn",
		ops:     txn,
		watches: []Watch{wtWatch(1, "/k/*", 5, wtEvents(wtEv("/k/a", 5), wtEv("/k/b", 5)), wtEvents(wtEv("/k/a", 6)))},
	}, {
		name: "near miss: two watches deliver the same event once each",
		ops:  txn,
		watches: []Watch{wtWatch(1, "/k/*", 5, wtEvents(wtEv("/k/a", 5), wtEv("/k/b", 5))),
			wtWatch(2, "/k/a", 5, wtEvents(wtEv("/k/a", 5)))},
	}})
}

func TestCheckWatchesReorder(t *testing.T) {
	runWatchCases(t, []watchCase{{
		name:     "a lower revision after a higher one fails",
		ops:      wtPuts("/a", 5, 6),
		watches:  []Watch{wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 6)), wtEvents(wtEv("/a", 5)))},
		want:     []WatchProblemKind{WatchUnordered},
		contains: []string{`unordered: client 1 watch /a from rev 5`, `delivered put /a="v5" at rev 5 after an event at rev 6`},
	}, {
		name:    "a lower revision within one response fails",
		ops:     wtPuts("/a", 5, 6),
		watches: []Watch{wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 6), wtEv("/a", 5)))},
		want:    []WatchProblemKind{WatchUnordered},
	}, {
		name:    "near miss: equal revisions for two keys, in any key order",
		ops:     []Operation{wtTxn(0, 5, "/k/a", "v5", "/k/b", "v5")},
		watches: []Watch{wtWatch(1, "/k/*", 5, wtEvents(wtEv("/k/b", 5), wtEv("/k/a", 5)))},
	}})
}

func TestCheckWatchesSplit(t *testing.T) {
	ops := []Operation{wtTxn(0, 5, "/k/a", "v5", "/k/b", "v5"), wtPut(0, "/k/a", "v6", 6)}
	runWatchCases(t, []watchCase{{
		name:     "one revision's events over two responses fails",
		ops:      ops,
		watches:  []Watch{wtWatch(1, "/k/*", 5, wtEvents(wtEv("/k/a", 5)), wtEvents(wtEv("/k/b", 5)), wtEvents(wtEv("/k/a", 6)))},
		want:     []WatchProblemKind{WatchSplit},
		contains: []string{`/k/b at rev 5: delivered put /k/b="v5" at rev 5 in a later response than rev 5's other events`},
	}, {
		name:    "near miss: the next revision in the next response",
		ops:     ops,
		watches: []Watch{wtWatch(1, "/k/*", 5, wtEvents(wtEv("/k/a", 5), wtEv("/k/b", 5)), wtEvents(wtEv("/k/a", 6)))},
	}})
}

func TestCheckWatchesResume(t *testing.T) {
	first := wtClosed(wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 5)), wtEvents(wtEv("/a", 6))), wtAt(6)+8*time.Millisecond)
	runWatchCases(t, []watchCase{{
		name:     "a re-watch that skips a revision fails",
		ops:      wtPuts("/a", 5, 8),
		watches:  []Watch{first, wtWatch(1, "/a", 8, wtEvents(wtEv("/a", 8)))},
		want:     []WatchProblemKind{WatchResumeGap},
		contains: []string{"resume gap: client 1 watch /a from rev 8", "resumed from rev 8, but the previous watch (client 1 watch /a from rev 5 at +0.042s) delivered up to rev 6 and closed at +0.068s", `1 change never delivered nor re-listed: put /a="v7" at rev 7`, "resume from rev 7"},
	}, {
		name:    "near miss: resumed at the revision after the last delivered",
		ops:     wtPuts("/a", 5, 8),
		watches: []Watch{first, wtWatch(1, "/a", 7, wtEvents(wtEv("/a", 7)), wtEvents(wtEv("/a", 8)))},
	}, {
		name:    "near miss: resumed past revisions with no change of the range",
		ops:     append(wtPuts("/a", 5, 6), wtPut(0, "/b", "v7", 7), wtPut(0, "/a", "v8", 8)),
		watches: []Watch{first, wtWatch(1, "/a", 8, wtEvents(wtEv("/a", 8)))},
	}, {
		name:    "near miss: re-listed with a Get at the revision before the resume",
		ops:     append(wtPuts("/a", 5, 8), wtGet(1, "/a", 7, wtAt(7)+3*time.Millisecond)),
		watches: []Watch{first, wtWatch(1, "/a", 8, wtEvents(wtEv("/a", 8)))},
	}, {
		name:    "a Get of an older revision is no re-list",
		ops:     append(wtPuts("/a", 5, 8), wtGet(1, "/a", 6, wtAt(6)+9*time.Millisecond)),
		watches: []Watch{first, wtWatch(1, "/a", 8, wtEvents(wtEv("/a", 8)))},
		want:    []WatchProblemKind{WatchResumeGap},
	}, {
		name:    "near miss: another client's watch is not a resume",
		ops:     wtPuts("/a", 5, 8),
		watches: []Watch{first, wtWatch(2, "/a", 8, wtEvents(wtEv("/a", 8)))},
	}, {
		name:    "near miss: a watch still open is not resumed",
		ops:     wtPuts("/a", 5, 8),
		watches: []Watch{wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 5)), wtEvents(wtEv("/a", 6))), wtWatch(1, "/a", 8, wtEvents(wtEv("/a", 8)))},
	}, {
		name:    "another client's Get is no re-list",
		ops:     append(wtPuts("/a", 5, 8), wtGet(2, "/a", 7, wtAt(7)+3*time.Millisecond)),
		watches: []Watch{first, wtWatch(1, "/a", 8, wtEvents(wtEv("/a", 8)))},
		want:    []WatchProblemKind{WatchResumeGap},
	}, {
		name: "a count-only Get is no re-list",
		ops: append(wtPuts("/a", 5, 8), Operation{Client: 1, Call: wtAt(7) + 3*time.Millisecond, Return: wtAt(7) + 4*time.Millisecond,
			Request: Request{Then: []Op{{Type: OpGet, Key: "/a", CountOnly: true}}}, Outcome: Succeeded, Response: &Response{Revision: 7, Succeeded: true, Results: []Result{{Count: 1}}}}),
		watches: []Watch{first, wtWatch(1, "/a", 8, wtEvents(wtEv("/a", 8)))},
		want:    []WatchProblemKind{WatchResumeGap},
	}, {
		name:    "a Get of another key is no re-list",
		ops:     append(wtPuts("/a", 5, 8), wtGet(1, "/b", 7, wtAt(7)+3*time.Millisecond)),
		watches: []Watch{first, wtWatch(1, "/a", 8, wtEvents(wtEv("/a", 8)))},
		want:    []WatchProblemKind{WatchResumeGap},
	}, {
		name: "resumed past a compaction without re-listing fails, and the compaction is announced",
		ops:  wtPuts("/a", 5, 9),
		watches: []Watch{wtWatch(1, "/a", 3, wtCompacted(6, 7)),
			wtWatch(1, "/a", 9, wtEvents(wtEv("/a", 9)))},
		want:      []WatchProblemKind{WatchResumeGap},
		announced: 1,
		contains:  []string{"ended at +0.067s, compacted at revision 7", "4 changes never delivered nor re-listed"},
	}})
}

func TestCheckWatchesMismatch(t *testing.T) {
	runWatchCases(t, []watchCase{{
		name:     "a value other than the recorded write's fails",
		ops:      []Operation{wtPut(0, "/a", "v5", 5), wtPut(0, "/a", "v6", 6)},
		watches:  []Watch{wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 5)), wtEvents(wtPutEv("/a", "stale", 6)))},
		want:     []WatchProblemKind{WatchMismatch},
		contains: []string{`mismatch: client 1 watch /a from rev 5`, `delivered put /a="stale" at rev 6; expected put /a="v6" at rev 6 (client 0's put /a="v6"`, `value "stale" instead of "v6"`},
	}, {
		name:    "near miss: the recorded write's value",
		ops:     []Operation{wtPut(0, "/a", "v5", 5), wtPut(0, "/a", "v6", 6)},
		watches: []Watch{wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 5)), wtEvents(wtEv("/a", 6)))},
	}, {
		name:     "a delete where the recorded write put fails",
		ops:      []Operation{wtPut(0, "/a", "v5", 5)},
		watches:  []Watch{wtWatch(1, "/a", 5, wtEvents(wtDelEv("/a", 5)))},
		want:     []WatchProblemKind{WatchMismatch},
		contains: []string{"a delete instead of a put"},
	}, {
		name:     "another key at a revision a recorded write made fails",
		ops:      []Operation{wtPut(0, "/k/a", "v5", 5)},
		watches:  []Watch{wtWatch(1, "/k/*", 5, wtEvents(wtEv("/k/b", 5)))},
		want:     []WatchProblemKind{WatchMismatch, WatchMissing},
		contains: []string{`which is not in the recorded writes: rev 5 is put /k/a="v5" at rev 5`},
	}, {
		name:    "near miss: an event at a revision no recorded write made",
		ops:     []Operation{wtPut(0, "/k/a", "v5", 5)},
		watches: []Watch{wtWatch(1, "/k/*", 5, wtEvents(wtEv("/k/a", 5)), wtEvents(wtEv("/k/b", 6)))},
	}, {
		name:     "etcd's own history: another version fails",
		etcd:     []WatchEvent{wtEv("/a", 5)},
		useEtcd:  true,
		watches:  []Watch{wtWatch(1, "/a", 5, wtEvents(WatchEvent{Type: EventPut, KV: KV{Key: "/a", Value: "v5", ModRevision: 5, CreateRevision: 2, Version: 9}}))},
		want:     []WatchProblemKind{WatchMismatch},
		contains: []string{"version 9 instead of 4", "from etcd's history"},
	}, {
		name:     "etcd's own history: an event etcd does not have fails",
		etcd:     []WatchEvent{wtEv("/a", 5)},
		useEtcd:  true,
		watches:  []Watch{wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 5)), wtEvents(wtEv("/a", 6)))},
		want:     []WatchProblemKind{WatchMismatch},
		contains: []string{"which is not in etcd's history: no change of the watched keys at rev 6"},
	}, {
		name:    "etcd's own history: a wrong previous key-value fails",
		etcd:    []WatchEvent{wtEv("/a", 5), wtEv("/a", 6)},
		useEtcd: true,
		watches: []Watch{wtPrevKV(wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 5)),
			wtEvents(WatchEvent{Type: EventPut, KV: wtEv("/a", 6).KV, PrevKV: &KV{Key: "/a", Value: "old", ModRevision: 3, CreateRevision: 2, Version: 2}})))},
		want:     []WatchProblemKind{WatchMismatch},
		contains: []string{`previous value "old" (mod 3, version 2) instead of "v5" (mod 5, version 4)`},
	}, {
		name:    "near miss: the right previous key-value, and none where etcd omits it",
		etcd:    []WatchEvent{wtEv("/a", 5), wtEv("/a", 6)},
		useEtcd: true,
		watches: []Watch{wtPrevKV(wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 5)),
			wtEvents(WatchEvent{Type: EventPut, KV: wtEv("/a", 6).KV, PrevKV: &KV{Key: "/a", Value: "v5", ModRevision: 5, CreateRevision: 2, Version: 4}})))},
	}, {
		name:     "an event outside the watched range fails",
		ops:      []Operation{wtPut(0, "/a", "v5", 5), wtPut(0, "/b", "v6", 6)},
		watches:  []Watch{wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 5)), wtEvents(wtEv("/b", 6)))},
		want:     []WatchProblemKind{WatchMismatch},
		contains: []string{"outside the watched range"},
	}, {
		name:     "an event before the watch's start fails",
		ops:      wtPuts("/a", 5, 6),
		watches:  []Watch{wtWatch(1, "/a", 6, wtEvents(wtEv("/a", 5)), wtEvents(wtEv("/a", 6)))},
		want:     []WatchProblemKind{WatchMismatch},
		contains: []string{"before the watch's start, rev 6"},
	}, {
		name:     "a put through WithFilterPut fails",
		ops:      []Operation{wtPut(0, "/a", "v5", 5)},
		watches:  []Watch{wtFiltered(wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 5))), true, false)},
		want:     []WatchProblemKind{WatchMismatch},
		contains: []string{"filters out (clientv3.WithFilterPut)"},
	}})
}

func wtPrevKV(w Watch) Watch { w.PrevKV = true; return w }

func TestCheckWatchesCompacted(t *testing.T) {
	runWatchCases(t, []watchCase{{
		name:      "a watch ended by compaction passes, listed as announced",
		ops:       wtPuts("/a", 5, 7),
		watches:   []Watch{wtWatch(1, "/a", 3, wtCompacted(7, 6))},
		announced: 1,
		contains:  []string{"1 watch, 0 events: reliable", "announced by etcd, not failed (1):", "compacted: client 1 watch /a from rev 3", "events lost, announced by etcd (compacted at revision 6): the watch wanted rev 3 on"},
	}, {
		name:      "what it delivered before the compaction is still checked",
		ops:       wtPuts("/a", 5, 7),
		watches:   []Watch{wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 5)), wtEvents(wtEv("/a", 7)), wtCompacted(7, 8))},
		want:      []WatchProblemKind{WatchMissing},
		announced: 1,
	}})
}

func TestCheckWatchesReport(t *testing.T) {
	var dups []WatchResponse
	for range 15 {
		dups = append(dups, wtEvents(wtEv("/a", 5)))
	}
	many := make([]WatchProblemKind, 14)
	for i := range many {
		many[i] = WatchDuplicate
	}
	runWatchCases(t, []watchCase{{
		name:     "String lists the first ten problems and counts the rest",
		ops:      wtPuts("/a", 5, 5),
		watches:  []Watch{wtWatch(1, "/a", 5, dups...)},
		want:     many,
		contains: []string{"1 watch, 15 events: 14 problems (14 duplicate)", "... and 4 more"},
	}, {
		name:     "etcd's history that could not be read is said",
		ops:      wtPuts("/a", 5, 5),
		watches:  []Watch{wtWatch(1, "/a", 5, wtEvents(wtEv("/a", 5)))},
		useEtcd:  true,
		truthErr: errors.New("chaos: History.Stop could not read etcd's own history"),
		contains: []string{"checked against the recorded writes only: chaos: History.Stop could not read etcd's own history"},
	}, {
		name:    "no watches: reliable",
		ops:     wtPuts("/a", 5, 5),
		useEtcd: true,
	}})
}

func TestCheckWatchesRecordedWrites(t *testing.T) {
	rangeDelete := func(rev int64, prev ...KV) Operation {
		return Operation{Client: 0, Call: wtAt(rev) - time.Millisecond, Return: wtAt(rev),
			Request: Request{Then: []Op{{Type: OpDelete, Key: "/k/", End: "/k0", PrevKV: len(prev) > 0}}},
			Outcome: Succeeded, Response: &Response{Revision: rev, Succeeded: true, Results: []Result{{Deleted: 2, PrevKVs: prev}}}}
	}
	elseTxn := wtTxn(0, 6, "/k/a", "then")
	elseTxn.Request.Else = []Op{{Type: OpPut, Key: "/k/b", Value: "else"}}
	elseTxn.Response.Succeeded = false
	putPrev := func(rev int64, prev *KV) Operation {
		o := wtPut(0, "/a", "v", rev)
		o.Request.Then[0].PrevKV = true
		if prev != nil {
			o.Response.Results[0].PrevKVs = []KV{*prev}
		}
		return o
	}
	put := func(value string, rev, create, version int64) WatchEvent {
		return WatchEvent{Type: EventPut, KV: KV{Key: "/a", Value: value, ModRevision: rev, CreateRevision: create, Version: version}}
	}
	runWatchCases(t, []watchCase{{
		name:     "a range delete's keys come from its previous key-values: one missing fails",
		ops:      []Operation{rangeDelete(5, KV{Key: "/k/a", ModRevision: 3}, KV{Key: "/k/b", ModRevision: 4})},
		watches:  []Watch{wtWatch(1, "/k/*", 5, wtEvents(wtDelEv("/k/a", 5)))},
		want:     []WatchProblemKind{WatchMissing},
		contains: []string{"delete /k/b at rev 5"},
	}, {
		name:    "near miss: a range delete without them requires nothing and accepts any key",
		ops:     []Operation{rangeDelete(5)},
		watches: []Watch{wtWatch(1, "/k/*", 5, wtEvents(wtDelEv("/k/x", 5)))},
	}, {
		name: "near miss: so does a Txn's range delete without them, next to a put",
		ops: []Operation{{Client: 0, Call: wtAt(5) - time.Millisecond, Return: wtAt(5),
			Request: Request{Txn: true, Then: []Op{{Type: OpPut, Key: "/z", Value: "v5"}, {Type: OpDelete, Key: "/k/", End: "/k0"}}},
			Outcome: Succeeded, Response: &Response{Revision: 5, Succeeded: true, Results: []Result{{}, {Deleted: 3}}}}},
		watches: []Watch{wtWatch(1, "/k/*", 5, wtEvents(wtDelEv("/k/x", 5)))},
	}, {
		name: "near miss: a Delete that deleted nothing made no revision (its header's is another write's)",
		ops: []Operation{{Client: 0, Call: wtAt(5), Return: wtAt(5) + time.Millisecond, Request: Request{Then: []Op{{Type: OpDelete, Key: "/gone"}}},
			Outcome: Succeeded, Response: &Response{Revision: 5, Succeeded: true, Results: []Result{{Deleted: 0}}}}},
		watches: []Watch{wtWatch(1, "/k/*", 5, wtEvents(wtEv("/k/x", 5)))},
	}, {
		name:     "a Txn's events are its taken branch's: the other branch's key fails",
		ops:      []Operation{elseTxn},
		watches:  []Watch{wtWatch(1, "/k/*", 6, wtEvents(wtPutEv("/k/a", "then", 6)))},
		want:     []WatchProblemKind{WatchMismatch, WatchMissing},
		contains: []string{`put /k/b="else" at rev 6`},
	}, {
		name:    "near miss: the taken branch's key",
		ops:     []Operation{elseTxn},
		watches: []Watch{wtWatch(1, "/k/*", 6, wtEvents(wtPutEv("/k/b", "else", 6)))},
	}, {
		name:     "a Put that asked for the previous key-value: the wrong version fails",
		ops:      []Operation{putPrev(5, nil), putPrev(6, &KV{Key: "/a", Value: "v", ModRevision: 5, CreateRevision: 5, Version: 1})},
		watches:  []Watch{wtWatch(1, "/a", 5, wtEvents(put("v", 5, 5, 1)), wtEvents(put("v", 6, 5, 1)))},
		want:     []WatchProblemKind{WatchMismatch},
		contains: []string{"version 1 instead of 2"},
	}, {
		name:    "near miss: the versions it implies",
		ops:     []Operation{putPrev(5, nil), putPrev(6, &KV{Key: "/a", Value: "v", ModRevision: 5, CreateRevision: 5, Version: 1})},
		watches: []Watch{wtWatch(1, "/a", 5, wtEvents(put("v", 5, 5, 1)), wtEvents(put("v", 6, 5, 2)))},
	}, {
		name:     "a previous key-value for a key etcd created at that revision fails",
		etcd:     []WatchEvent{put("v", 5, 5, 1)},
		useEtcd:  true,
		watches:  []Watch{wtPrevKV(wtWatch(1, "/a", 5, wtEvents(WatchEvent{Type: EventPut, KV: put("v", 5, 5, 1).KV, PrevKV: &KV{Key: "/a", Value: "ghost", ModRevision: 4}})))},
		want:     []WatchProblemKind{WatchMismatch},
		contains: []string{`a previous value "ghost" (mod 4) though the key did not exist before`},
	}, {
		name:    "a failed write is not required",
		ops:     []Operation{{Client: 0, Call: wtAt(5), Return: wtAt(6), Request: Request{Then: []Op{{Type: OpPut, Key: "/a", Value: "x"}}}, Outcome: Failed, Err: errors.New("etcdserver: permission denied")}},
		watches: []Watch{wtWatch(1, "/a", 5, wtProgress(9))},
	}})
}
