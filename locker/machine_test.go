package locker

import (
	"slices"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// The election's rules, driven with a made-up clock and made-up etcd answers:
// no etcd, no goroutines, milliseconds in all. Run them alone with
//
//	ETCDTEST_BINARY=/nonexistent go test ./locker -run '^TestMachine'
//
// Node b is the one under test; a and c are other nodes. Times are
// milliseconds after t0.

var t0 = time.Unix(1_000_000, 0)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

const (
	leaseA clientv3.LeaseID = 0xa
	leaseB clientv3.LeaseID = 0xb
	leaseX clientv3.LeaseID = 0xf // someone else's
)

func put(id string, createRev int64, lease clientv3.LeaseID, value string) keyChange {
	return keyChange{kind: keyPut, entry: entry{id: id, value: value, createRev: createRev, modRev: createRev, lease: lease}}
}

func del(id string) keyChange { return keyChange{kind: keyDeleted, entry: entry{id: id}} }

func marker(id string, createRev int64) keyChange {
	return keyChange{kind: keyResigned, entry: entry{id: id, createRev: createRev}}
}

func cand(id string, createRev int64, lease clientv3.LeaseID, value string) entry {
	return put(id, createRev, lease, value).entry
}

// step is one input at one instant, and what the machine must decide.
type step struct {
	ms   int
	in   func(m *machine, now time.Time) // nil: only the clock moved
	want want
}

type want struct {
	events   []EventKind // in order
	believes bool
	wake     int  // ms; 0: no wake-up asked
	confirm  bool // a proof is asked for
	lost     bool // the own key is reported lost
}

func tick() func(*machine, time.Time) { return nil }

func revision(rev int64, changes ...keyChange) func(*machine, time.Time) {
	return func(m *machine, now time.Time) { m.applyRevision(rev, changes, now) }
}

func snapshot(rev int64, entries ...entry) func(*machine, time.Time) {
	return func(m *machine, now time.Time) { m.load(entries, rev, now) }
}

// join: b writes "vb", gets leaseB (TTL ttlMs from now) and creates its key
// at rev.
func join(rev int64, ttlMs int) func(*machine, time.Time) {
	return func(m *machine, now time.Time) {
		m.write("vb")
		m.leaseGranted(leaseB, time.Duration(ttlMs)*time.Millisecond, now)
		m.created(rev, now)
	}
}

// proved: a read sent at sentMs found b's key as created at rev under leaseB.
func proved(rev int64, sentMs int) func(*machine, time.Time) {
	return func(m *machine, now time.Time) {
		m.proof(rev, leaseB, at(sentMs), cand("b", rev, leaseB, "vb"), true, now)
	}
}

// leader: b alone, elected at 400 (a fresh node waits one belief window
// before it believes: it cannot know how the key before it went).
var leader = []step{
	{0, snapshot(1), want{}},
	{0, join(2, 10_000), want{events: []EventKind{EventJoined}}},
	{0, revision(2, put("b", 2, leaseB, "vb")), want{events: []EventKind{EventChanged}, wake: 400}},
	{400, tick(), want{confirm: true}},
	{400, proved(2, 400), want{events: []EventKind{EventSelected}, believes: true, wake: 800}},
}

// follower: b second in line behind a, long enough for the first belief
// window to have passed.
var follower = []step{
	{0, snapshot(5, cand("a", 5, leaseA, "va")), want{events: []EventKind{EventChanged}}},
	{0, join(6, 10_000), want{events: []EventKind{EventJoined}}},
	{0, revision(6, put("b", 6, leaseB, "vb")), want{}},
}

func then(setup []step, more ...step) []step { return append(slices.Clone(setup), more...) }

func TestMachine(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"a lone node is elected after the first belief window and a proof", leader},
		{"belief ends a belief window after the last proof was sent", then(leader,
			step{799, tick(), want{believes: true, wake: 800}},
			step{800, tick(), want{events: []EventKind{EventDeselected}, confirm: true}},
			step{800, proved(2, 800), want{events: []EventKind{EventSelected}, believes: true, wake: 1200}},
		)},
		{"a fresh proof moves the end of belief", then(leader,
			step{500, proved(2, 500), want{believes: true, wake: 900}},
			step{600, proved(2, 450), want{believes: true, wake: 900}}, // an older read proves nothing new
		)},
		{"proofs in flight together, answered late and out of order: the latest sent counts", then(leader,
			// The confirm loop sends a read every 100ms without waiting for
			// answers, so two slow round trips in a row do not end the belief.
			step{790, proved(2, 600), want{believes: true, wake: 1000}},
			step{795, proved(2, 500), want{believes: true, wake: 1000}},
			step{999, tick(), want{believes: true, wake: 1000}},
			step{1000, tick(), want{events: []EventKind{EventDeselected}, confirm: true}},
		)},
		{"belief never outlives the lease", then(leader[:1],
			step{0, join(2, 1000), want{events: []EventKind{EventJoined}}},
			step{0, revision(2, put("b", 2, leaseB, "vb")), want{events: []EventKind{EventChanged}, wake: 400}},
			step{700, proved(2, 700), want{events: []EventKind{EventSelected}, believes: true, wake: 1000}},
			step{1000, tick(), want{events: []EventKind{EventDeselected}}},
		)},
		{"a keep-alive moves the lease deadline", then(leader[:1],
			step{0, join(2, 1000), want{events: []EventKind{EventJoined}}},
			step{0, revision(2, put("b", 2, leaseB, "vb")), want{events: []EventKind{EventChanged}, wake: 400}},
			step{700, proved(2, 700), want{events: []EventKind{EventSelected}, believes: true, wake: 1000}},
			step{800, func(m *machine, _ time.Time) { m.keptAlive(leaseB, time.Second, at(800)) }, want{believes: true, wake: 1100}},
		)},
		{"the lease lost: the key is lost, belief ends at once", then(leader,
			step{500, func(m *machine, now time.Time) { m.leaseGone(leaseB, now) },
				want{events: []EventKind{EventLost, EventDeselected}, lost: true}},
		)},
		{"another lease gone changes nothing", then(leader,
			step{500, func(m *machine, now time.Time) { m.leaseGone(leaseX, now) }, want{believes: true, wake: 800}},
		)},
		{"the own key deleted by someone else: lost, and no leader", then(leader,
			step{500, revision(3, del("b")), want{events: []EventKind{EventLost, EventDeselected, EventChanged}, lost: true}},
		)},
		{"the own key replaced under another lease: lost", then(leader,
			step{500, revision(3, put("b", 3, leaseX, "other")), want{events: []EventKind{EventLost, EventDeselected, EventChanged}, lost: true}},
		)},
		{"a proof that finds the key gone: lost", then(leader,
			step{500, func(m *machine, now time.Time) { m.proof(2, leaseB, at(500), entry{}, false, now) },
				want{events: []EventKind{EventLost, EventDeselected}, lost: true}},
		)},
		{"a proof of a key the node no longer has proves nothing", then(leader,
			step{500, func(m *machine, now time.Time) {
				if !m.proof(1, leaseB, at(500), cand("b", 1, leaseB, "vb"), true, now) {
					panic("want again")
				}
			}, want{believes: true, wake: 800}},
		)},
		{"resigning: belief ends before the key goes, and its deletion is no loss", then(leader,
			step{500, func(m *machine, _ time.Time) { m.startResign() }, want{events: []EventKind{EventDeselected}}},
			step{510, revision(3, del("b"), marker("b", 2)), want{events: []EventKind{EventChanged}}},
			step{510, func(m *machine, now time.Time) { m.resigned(2, now) }, want{events: []EventKind{EventLeft}}},
		)},
		{"the resign marker lets the next node believe at once", then(follower,
			step{1000, revision(7, del("a"), marker("a", 5)), want{events: []EventKind{EventChanged}, confirm: true}},
			step{1000, proved(6, 1000), want{events: []EventKind{EventSelected}, believes: true, wake: 1400}},
		)},
		{"without a marker the next node waits a belief window", then(follower,
			step{1000, revision(7, del("a")), want{events: []EventKind{EventChanged}, wake: 1400}},
			step{1000, proved(6, 1000), want{wake: 1400}}, // proved, but the old leader may not know yet
			step{1399, tick(), want{wake: 1400}},
			step{1400, tick(), want{confirm: true}}, // that proof is as old as the window now
			step{1400, proved(6, 1400), want{events: []EventKind{EventSelected}, believes: true, wake: 1800}},
		)},
		{"a marker naming an older key of the same ID does not count", then(follower,
			step{1000, revision(7, del("a"), marker("a", 3)), want{events: []EventKind{EventChanged}, wake: 1400}},
		)},
		{"a lease expiry (delete, no marker) of the leader makes everyone wait", then(follower,
			step{1000, revision(7, del("a")), want{events: []EventKind{EventChanged}, wake: 1400}},
			step{1400, tick(), want{confirm: true}},
		)},
		{"compaction resume: a snapshot with a new first key waits a belief window", then(follower,
			step{1000, snapshot(9, cand("b", 6, leaseB, "vb")), want{events: []EventKind{EventChanged}, wake: 1400}},
			step{1400, tick(), want{confirm: true}},
		)},
		{"compaction resume: a snapshot with the same first key does not", then(leader,
			step{500, snapshot(9, cand("b", 2, leaseB, "vb"), cand("c", 8, leaseX, "vc")), want{believes: true, wake: 800}},
		)},
		{"compaction resume: a snapshot without the own key loses it", then(follower,
			step{1000, snapshot(9, cand("a", 5, leaseA, "va"), cand("c", 8, leaseX, "vc")), want{events: []EventKind{EventLost}, lost: true}},
		)},
		{"changes come without repeats: a put that keeps leader and value is none", then(follower,
			step{1000, revision(7, keyChange{kind: keyPut, entry: entry{id: "a", value: "va", createRev: 5, modRev: 7, lease: leaseA}}), want{}},
			step{1000, revision(8, keyChange{kind: keyPut, entry: entry{id: "a", value: "va2", createRev: 5, modRev: 8, lease: leaseA}}),
				want{events: []EventKind{EventChanged}}},
		)},
		{"several revisions at once: one change each, select after the change that names the node", then(follower,
			step{1000, func(m *machine, now time.Time) {
				m.applyRevision(7, []keyChange{put("a", 5, leaseA, "va2")}, now)
				m.applyRevision(8, []keyChange{del("a"), marker("a", 5)}, now)
				m.proof(6, leaseB, now, cand("b", 6, leaseB, "vb"), true, now)
			}, want{events: []EventKind{EventChanged, EventChanged, EventSelected}, believes: true, wake: 1400}},
		)},
		{"a node writing while not first updates in place and is no candidate meanwhile", then(follower,
			step{1000, func(m *machine, _ time.Time) {
				ahead, inPlace, own := m.write("vb2")
				if !inPlace || ahead.id != "a" || own != 6 {
					panic("want an in-place update behind a")
				}
			}, want{}},
			step{1000, revision(8, del("a"), marker("a", 5)), want{events: []EventKind{EventChanged}}},
			step{1000, func(m *machine, _ time.Time) { m.written() }, want{confirm: true}},
		)},
		{"the leader writing resigns instead", then(leader,
			step{500, func(m *machine, _ time.Time) {
				if _, inPlace, _ := m.write("vb2"); inPlace {
					panic("the leader must not update in place")
				}
			}, want{believes: true, wake: 800}},
		)},
		{"Reset ends belief; Close is recorded and ends it for good", then(leader,
			step{500, func(m *machine, _ time.Time) { m.reset() }, want{events: []EventKind{EventDeselected}}},
			step{500, func(m *machine, now time.Time) { m.close(now) }, want{events: []EventKind{EventClosed}}},
			step{600, proved(2, 600), want{}},
		)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMachine("b")
			for i, s := range tc.steps {
				now := at(s.ms)
				if s.in != nil {
					s.in(m, now)
				}
				d := m.decide(now)
				var kinds []EventKind
				for _, e := range d.events {
					kinds = append(kinds, e.Kind)
				}
				wake := 0
				if !d.wake.IsZero() {
					wake = int(d.wake.Sub(t0) / time.Millisecond)
				}
				got := want{events: kinds, believes: m.believes(now), wake: wake, confirm: d.confirm, lost: d.lost != nil}
				if !slices.Equal(got.events, s.want.events) || got.believes != s.want.believes || got.wake != s.want.wake ||
					got.confirm != s.want.confirm || got.lost != s.want.lost {
					t.Fatalf("step %d at %dms:\n got %+v\nwant %+v", i, s.ms, got, s.want)
				}
			}
		})
	}
}

// The events name what the callbacks are told: the leader for changed and
// selected, the node itself for joined and lost.
func TestMachineEventsNameTheirSubject(t *testing.T) {
	m := newMachine("b")
	var events []Event
	run := func(steps []step) {
		for _, s := range steps {
			if s.in != nil {
				s.in(m, at(s.ms))
			}
			events = append(events, m.decide(at(s.ms)).events...)
		}
	}
	run(then(follower, step{1000, revision(7, del("a"), marker("a", 5)), want{}}, step{1000, proved(6, 1000), want{}},
		step{1100, revision(8, del("b")), want{}}))
	want := []Event{
		{Time: at(0), Kind: EventChanged, LeaderID: "a", Value: "va", Revision: 5},
		{Time: at(0), Kind: EventJoined, LeaderID: "b", Value: "vb", Revision: 6},
		{Time: at(1000), Kind: EventChanged, LeaderID: "b", Value: "vb", Revision: 6},
		{Time: at(1000), Kind: EventSelected, LeaderID: "b", Value: "vb", Revision: 6},
		{Time: at(1100), Kind: EventLost, LeaderID: "b", Value: "vb", Revision: 6},
		{Time: at(1100), Kind: EventDeselected, LeaderID: "b", Value: "vb", Revision: 6},
		{Time: at(1100), Kind: EventChanged},
	}
	if !slices.Equal(events, want) {
		t.Fatalf("got  %v\nwant %v", events, want)
	}
}

func TestLayout(t *testing.T) {
	l := NewLayout("/election/")
	for _, tc := range []struct {
		key       string
		candidate string
		resigned  string
	}{
		{"/election/a", "a", ""},
		{"/election/a/resigned", "", "a"},
		{"/election/a/other", "", ""},
		{"/election/", "", ""},
		{"/election-2/a", "", ""},
		{"/elsewhere/a", "", ""},
	} {
		id, _ := l.Candidate(tc.key)
		rid, _ := l.Resigned(tc.key)
		if id != tc.candidate || rid != tc.resigned {
			t.Errorf("%s: candidate %q resigned %q, want %q %q", tc.key, id, rid, tc.candidate, tc.resigned)
		}
	}
	if l.Key("a") != "/election/a" || l.ResignMarker("a") != "/election/a/resigned" || l.Path() != "/election" {
		t.Errorf("layout of %q: %s %s %s", l.Path(), l.Key("a"), l.ResignMarker("a"), l.Prefix())
	}
	if markerRevision([]byte(markerValue(42))) != 42 {
		t.Error("marker value does not round-trip")
	}
}
