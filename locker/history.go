package locker

import (
	"fmt"
	"time"
)

// EventKind says what happened to a node; see Event.
type EventKind int

const (
	// EventChanged: the elected leader or its value changed, as this node
	// sees it (OnChange was called). LeaderID "" means no leader.
	EventChanged EventKind = iota + 1
	// EventSelected: this node became elected (OnSelect was called).
	EventSelected
	// EventDeselected: this node stopped being elected; its OnSelect
	// context was cancelled.
	EventDeselected
	// EventJoined: this node's key was created (Write, or a rejoin).
	EventJoined
	// EventLeft: this node removed its key (Reset, Close, or Write by the
	// leader, which resigns before it rejoins).
	EventLeft
	// EventLost: this node's session was lost: its lease expired or was
	// revoked, or its key was deleted by someone else. It rejoins by itself.
	EventLost
	// EventClosed: Close was called.
	EventClosed
)

func (k EventKind) String() string {
	switch k {
	case EventChanged:
		return "changed"
	case EventSelected:
		return "selected"
	case EventDeselected:
		return "deselected"
	case EventJoined:
		return "joined"
	case EventLeft:
		return "left"
	case EventLost:
		return "lost"
	case EventClosed:
		return "closed"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is one entry of a node's History.
type Event struct {
	Time     time.Time
	Kind     EventKind
	LeaderID string // the leader after the event ("" for none); for joined/left/lost: this node
	Value    string // the leader's value after the event; for joined/left/lost: this node's value
	Revision int64  // create revision of the key concerned: the fencing token for changed/selected/deselected
}

func (e Event) String() string {
	return fmt.Sprintf("%s %s leader=%q value=%q rev=%d",
		e.Time.Format("15:04:05.000"), e.Kind, e.LeaderID, e.Value, e.Revision)
}

// historySize bounds History: enough for a failure message, small enough to read.
const historySize = 16

// history is a ring of the last historySize events. Guarded by Node.mu.
type history struct {
	events [historySize]Event
	next   int
	full   bool
}

func (h *history) add(e Event) {
	h.events[h.next] = e
	h.next = (h.next + 1) % historySize
	if h.next == 0 {
		h.full = true
	}
}

func (h *history) list() []Event {
	if !h.full {
		return append([]Event(nil), h.events[:h.next]...)
	}
	out := make([]Event, 0, historySize)
	out = append(out, h.events[h.next:]...)
	return append(out, h.events[:h.next]...)
}
