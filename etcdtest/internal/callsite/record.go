package callsite

import (
	"strings"
	"sync"
)

// Record holds the calls that made a fault in force — a member's kill, a
// cluster's network faults, a link's cut — for a later report. The zero
// Record is empty and ready.
type Record struct {
	mu    sync.Mutex
	sites []Site
}

// maxSites bounds a Record: a report names the first few calls.
const maxSites = 4

// Note records the call running on this goroutine (Find) when inForce,
// and forgets every call when the fault is lifted (!inForce).
func (r *Record) Note(inForce bool) {
	s := Find()
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case !inForce:
		r.sites = nil
	case s.Known() && len(r.sites) < maxSites:
		r.sites = append(r.sites, s)
	}
}

// By returns " by " and the calls noted, "Member.Kill at a_test.go:12", or
// "" when none is: the tail of a sentence saying what made a fault.
func (r *Record) By() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.sites) == 0 {
		return ""
	}
	calls := make([]string, len(r.sites))
	for i, s := range r.sites {
		calls[i] = s.String()
	}
	return " by " + strings.Join(calls, ", ")
}
