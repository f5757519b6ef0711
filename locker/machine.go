package locker

import (
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// The machine is the election as one node knows it, and every rule that
// decides what the node believes. It does no I/O, takes no lock and reads no
// clock: each input is a method that takes the instant it happened, and
// decide says what follows from the state at an instant. Node's loops feed
// it (the session loop its own key and lease, the watch loop the keys under
// the path, the confirm loop the proofs of its key, a timer the deadlines)
// and carry its decisions out; machine_test.go drives it with a made-up
// clock.
//
// A node believes it is elected only while all of these hold:
//   - it is in the election and not changing its own key;
//   - its key is the first under the path in its view, with the create
//     revision and lease it created it with;
//   - a read of its key sent less than beliefWindow ago found it so, and the
//     last successful keep-alive was sent less than the granted TTL ago;
//   - notBefore has passed (see beliefWindow).
//
// The view can lag etcd but never shows a key first that is not: keys are
// only ever added behind the existing ones, and deletions are final.
type machine struct {
	id string

	// what the user asked for
	closed bool
	joined bool
	value  string

	// the session: this node's lease and key
	lease     leaseState
	own       int64     // create revision of this node's key; 0: no key
	resigning bool      // the key is being removed: not a candidate
	updating  bool      // the key's value is being updated in place: not a candidate
	proved    time.Time // when the last read that found the key as created was sent

	// the view: every candidate key under the path, as of viewRev
	view      map[string]entry
	viewRev   int64
	notBefore time.Time // no belief before this instant (see beliefWindow)

	// what was decided
	elected  bool
	emitted  Leader  // the last leader handed to OnChange
	selected Leader  // the election this node believes it won
	pending  []Event // decided, not yet handed out by decide
	lost     error   // why the own key was lost, not yet handed out
}

type leaseState struct {
	id       clientv3.LeaseID
	granted  time.Duration
	deadline time.Time // last successful keep-alive sent + granted TTL
	renewAt  time.Time // when the next keep-alive is due
}

// entry is one candidate key as the view has it.
type entry struct {
	id        string
	value     string
	createRev int64
	modRev    int64
	lease     clientv3.LeaseID
}

// keyChange is what one watch event did to the election.
type keyChange struct {
	kind  changeKind
	entry entry // put: the key; deleted: its id; resigned: its id and the createRev the marker names
}

type changeKind int

const (
	keyPut changeKind = iota + 1
	keyDeleted
	keyResigned
)

// decision is what the node must do after an input.
type decision struct {
	events  []Event   // to record, in order; changed and selected call the callbacks, deselected cancels OnSelect's context
	lost    error     // the own key is gone: rejoin (and report why)
	wake    time.Time // decide again at this instant even if nothing happens; zero: no need
	confirm bool      // a proof of the own key would elect this node now: read it
}

func newMachine(id string) *machine {
	return &machine{id: id, view: map[string]entry{}}
}

// decide brings the belief up to date at now and hands out what was decided
// since the last call.
func (m *machine) decide(now time.Time) decision {
	should := m.candidate() && !now.Before(m.notBefore) && now.Before(m.beliefDeadline())
	switch {
	case m.elected && !should:
		m.deselect(now)
	case !m.elected && should:
		m.elect(now)
	}
	d := decision{events: m.pending, lost: m.lost}
	m.pending, m.lost = nil, nil
	switch {
	case m.elected:
		d.wake = m.beliefDeadline()
	case m.candidate() && now.Before(m.notBefore):
		d.wake = m.notBefore
	}
	// Ask for a proof only when one would elect this node now: not while it
	// waits for notBefore (it wakes then), nor while its last proof is fresh
	// (what it lacks then is a keep-alive). Otherwise the confirm loop, which
	// feeds every read back here, would read nonstop.
	d.confirm = m.candidate() && !m.elected && !now.Before(m.notBefore) && !now.Before(m.proved.Add(beliefWindow))
	return d
}

// believes is what Elected reports: the belief, bounded by the clock even
// when no input came to end it.
func (m *machine) believes(now time.Time) bool {
	return m.elected && now.Before(m.beliefDeadline())
}

func (m *machine) candidate() bool {
	if m.closed || !m.joined || m.resigning || m.updating || m.own == 0 {
		return false
	}
	e, ok := m.first()
	return ok && e.id == m.id && e.createRev == m.own && e.lease == m.lease.id
}

func (m *machine) beliefDeadline() time.Time {
	d := m.proved.Add(beliefWindow)
	if m.lease.deadline.Before(d) {
		d = m.lease.deadline
	}
	return d
}

func (m *machine) elect(now time.Time) {
	e, _ := m.first()
	m.elected = true
	m.selected = Leader{ID: e.id, Value: e.value, Revision: e.createRev}
	m.record(now, EventSelected, m.selected)
}

func (m *machine) deselect(now time.Time) {
	m.elected = false
	m.record(now, EventDeselected, m.selected)
}

func (m *machine) record(now time.Time, kind EventKind, l Leader) {
	m.pending = append(m.pending, Event{Time: now, Kind: kind, LeaderID: l.ID, Value: l.Value, Revision: l.Revision})
}

// self is this node as an event names it (joined, left, lost, closed).
func (m *machine) self() Leader {
	return Leader{ID: m.id, Value: m.value, Revision: m.own}
}

// lose records that the own key is gone without this node's doing. It stops
// believing at once: what it believed in is gone.
func (m *machine) lose(reason string, now time.Time) {
	m.record(now, EventLost, m.self())
	m.lost = fmt.Errorf("locker: %s lost its key (revision %d): %s", m.id, m.own, reason)
	m.own = 0
	m.proved = time.Time{}
	if m.elected {
		m.deselect(now)
	}
}

// The user's requests.

// write records a Write of value and says whether to update the own key in
// place: only while a key etcd orders before it exists (ahead, checked in
// the same transaction), so that a node first in line never changes its
// value without a new election.
func (m *machine) write(value string) (ahead entry, inPlace bool, own int64) {
	m.value, m.joined = value, true
	ahead, inPlace = m.ahead()
	inPlace = inPlace && !m.elected
	m.updating = inPlace
	return ahead, inPlace, m.own
}

// written ends an in-place update, whatever its outcome.
func (m *machine) written() { m.updating = false }

func (m *machine) reset() { m.joined = false }

func (m *machine) close(now time.Time) {
	m.closed, m.joined = true, false
	m.record(now, EventClosed, m.self())
}

// The session's outcomes.

func (m *machine) leaseGranted(id clientv3.LeaseID, ttl time.Duration, sent time.Time) {
	m.lease = leaseState{id: id, granted: ttl, deadline: sent.Add(ttl), renewAt: sent.Add(ttl / 3)}
}

// keptAlive records a keep-alive of lease sent at sent that etcd answered
// with ttl. False: the lease is no longer this node's.
func (m *machine) keptAlive(id clientv3.LeaseID, ttl time.Duration, sent time.Time) bool {
	if m.lease.id != id {
		return false
	}
	m.lease.granted = ttl
	if d := sent.Add(ttl); d.After(m.lease.deadline) {
		m.lease.deadline = d
	}
	m.lease.renewAt = sent.Add(ttl / 3)
	return true
}

// leaseGone records that etcd does not know lease (it expired, or it was
// revoked); with it went the own key, if there was one.
func (m *machine) leaseGone(id clientv3.LeaseID, now time.Time) {
	if m.lease.id != id || id == 0 {
		return
	}
	m.lease = leaseState{}
	if m.own != 0 {
		m.lose("lease expired or revoked", now)
	}
}

func (m *machine) created(rev int64, now time.Time) {
	m.own = rev
	m.proved = time.Time{}
	m.record(now, EventJoined, m.self())
}

// startResign marks the own key as being removed: the node stops believing
// before the request that removes it is sent.
func (m *machine) startResign() (own int64, lease clientv3.LeaseID) {
	m.resigning = true
	return m.own, m.lease.id
}

// resigned records that the key created at rev is gone (or was never there:
// rev 0).
func (m *machine) resigned(rev int64, now time.Time) {
	if rev != 0 && m.own == rev {
		m.record(now, EventLeft, m.self())
		m.own = 0
	}
	m.resigning = false
	m.proved = time.Time{}
}

// proof records the answer to a read of the own key, sent at sent while the
// key was created at rev under lease; found is the key, if the read found
// it. again says the node's key changed meanwhile: read again now.
func (m *machine) proof(rev int64, lease clientv3.LeaseID, sent time.Time, found entry, ok bool, now time.Time) (again bool) {
	switch {
	case m.own != rev || m.lease.id != lease || m.resigning || m.updating:
		return true
	case ok && found.createRev == rev && found.lease == lease:
		if sent.After(m.proved) {
			m.proved = sent
		}
	default:
		m.lose("key gone or replaced", now)
	}
	return false
}

// The view.

// load replaces the view with a snapshot of the path read at rev. What
// happened between the old view and the snapshot is unknown, so if the first
// key went away it is assumed to have gone without resigning.
func (m *machine) load(entries []entry, rev int64, now time.Time) {
	old, hadOld := m.first()
	m.view = make(map[string]entry, len(entries))
	for _, e := range entries {
		m.view[e.id] = e
	}
	m.viewRev = rev
	if cur, ok := m.first(); !hadOld || !ok || cur.createRev != old.createRev {
		m.waitBeliefWindow(now)
	}
	if m.own != 0 && !m.resigning {
		if e, ok := m.view[m.id]; !ok || e.createRev != m.own {
			m.lose("key gone while the watch was compacted", now)
		}
	}
	m.emitChange(now)
}

// applyRevision applies the changes etcd made at one revision.
func (m *machine) applyRevision(rev int64, changes []keyChange, now time.Time) {
	old, hadOld := m.first()
	resigned := map[string]int64{}
	for _, c := range changes {
		e := c.entry
		switch c.kind {
		case keyResigned:
			resigned[e.id] = e.createRev
		case keyDeleted:
			gone, ok := m.view[e.id]
			delete(m.view, e.id)
			if ok && e.id == m.id && m.own != 0 && gone.createRev == m.own && !m.resigning {
				m.lose("key deleted", now)
			}
		case keyPut:
			m.view[e.id] = e
			if e.id == m.id && m.own != 0 && (e.createRev != m.own || e.lease != m.lease.id) && !m.resigning {
				m.lose("key replaced by another client", now)
			}
		}
	}
	m.viewRev = rev
	if cur, ok := m.first(); hadOld && (!ok || cur.createRev != old.createRev) {
		// The first key is gone. Unless its owner resigned (and so had
		// stopped believing before it deleted it), the owner may not know
		// yet: give it beliefWindow to find out.
		if resigned[old.id] != old.createRev {
			m.waitBeliefWindow(now)
		}
	}
	m.emitChange(now)
}

func (m *machine) waitBeliefWindow(now time.Time) {
	if t := now.Add(beliefWindow); t.After(m.notBefore) {
		m.notBefore = t
	}
}

// emitChange hands the leader to OnChange if it differs from the last one.
func (m *machine) emitChange(now time.Time) {
	cur, _ := m.leader()
	if cur.ID == m.emitted.ID && cur.Value == m.emitted.Value {
		return
	}
	m.emitted = cur
	m.record(now, EventChanged, cur)
}

func (m *machine) first() (entry, bool) {
	var first entry
	found := false
	for _, e := range m.view {
		if !found || e.createRev < first.createRev {
			first, found = e, true
		}
	}
	return first, found
}

func (m *machine) leader() (Leader, bool) {
	e, ok := m.first()
	if !ok {
		return Leader{}, false
	}
	return Leader{ID: e.id, Value: e.value, Revision: e.createRev}, true
}

// ahead returns the key right before this node's in line, if this node has
// a key and its view shows one before it.
func (m *machine) ahead() (entry, bool) {
	var ahead entry
	found := false
	if m.own == 0 {
		return ahead, false
	}
	for _, e := range m.view {
		if e.createRev < m.own && (!found || e.createRev > ahead.createRev) {
			ahead, found = e, true
		}
	}
	return ahead, found
}
