package netfault

// The snapshot and the way to the next one. A nil *Faults means no faults;
// every method accepts nil.

import (
	"maps"
	"slices"
	"time"
)

// Route is a direction between two members: From's bytes towards To.
type Route struct{ From, To int }

// Faults is one immutable snapshot of the network faults on the routes
// between members. The zero snapshot, like nil, has none.
type Faults struct {
	groups  []int                 // partition group of each member; nil when not partitioned
	delay   map[int]time.Duration // per member, on every route touching it
	drop    map[int]float64       // per member, on every route touching it
	cut     map[Route]bool        // one-way cuts
	changed chan struct{}         // closed by Retire, when a newer snapshot replaces this one
}

// WithGroups returns f with the members partitioned: groups[i] is member
// i's group, and only members of one group reach each other. nil lifts the
// partition.
func (f *Faults) WithGroups(groups []int) *Faults {
	g := f.clone()
	g.groups = slices.Clone(groups)
	return g
}

// WithDelay returns f with latency d on every route touching the given
// members; 0 removes theirs.
func (f *Faults) WithDelay(d time.Duration, members ...int) *Faults {
	g := f.clone()
	for _, i := range members {
		if d == 0 {
			delete(g.delay, i)
		} else {
			g.delay[i] = d
		}
	}
	return g
}

// WithDrop returns f losing the fraction rate of the chunks on every route
// touching the given members; 0 removes theirs.
func (f *Faults) WithDrop(rate float64, members ...int) *Faults {
	g := f.clone()
	for _, i := range members {
		if rate == 0 {
			delete(g.drop, i)
		} else {
			g.drop[i] = rate
		}
	}
	return g
}

// WithCut returns f with the given routes cut one way, besides its own.
func (f *Faults) WithCut(routes ...Route) *Faults {
	g := f.clone()
	for _, l := range routes {
		g.cut[l] = true
	}
	return g
}

func (f *Faults) clone() *Faults {
	g := &Faults{delay: map[int]time.Duration{}, drop: map[int]float64{}, cut: map[Route]bool{}, changed: make(chan struct{})}
	if f != nil {
		g.groups = slices.Clone(f.groups)
		maps.Copy(g.delay, f.delay)
		maps.Copy(g.drop, f.drop)
		maps.Copy(g.cut, f.cut)
	}
	return g
}

// Changed returns a channel closed when a newer snapshot replaces f (nil
// for nil): chunks waiting out f's latency wait for the new one instead.
func (f *Faults) Changed() <-chan struct{} {
	if f == nil {
		return nil
	}
	return f.changed
}

// Retire closes Changed. The holder of the current snapshot calls it once,
// when it replaces f.
func (f *Faults) Retire() {
	if f != nil && f.changed != nil {
		close(f.changed)
	}
}

// Empty reports whether f has no fault at all.
func (f *Faults) Empty() bool {
	return f == nil || f.groups == nil && !f.ShapesTraffic()
}

// Partitioned reports whether a partition stands.
func (f *Faults) Partitioned() bool { return f != nil && f.groups != nil }

// HasCuts reports whether any route is cut one way.
func (f *Faults) HasCuts() bool { return f != nil && len(f.cut) > 0 }

// IsCut reports whether l is cut one way.
func (f *Faults) IsCut(l Route) bool { return f != nil && f.cut[l] }

// ShapesTraffic reports whether any fault acts on chunks rather than on
// whole connections (latency, loss, one-way cuts).
func (f *Faults) ShapesTraffic() bool {
	return f != nil && (len(f.delay) > 0 || len(f.drop) > 0 || len(f.cut) > 0)
}
