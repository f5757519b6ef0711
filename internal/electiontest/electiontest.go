// Package electiontest watches the belief of a group of electors for the
// project's own suites (locker's and chaos'): which of them believe they are
// elected now, and a sampler that reads every one's belief continuously and
// keeps the instants when more than one did. It is internal until the chaos
// package offers it as chaos.Record.
//
//	s := electiontest.Sample(time.Millisecond, nodes...)
//	// ... faults, handovers ...
//	Expect(s.Stop()).To(BeEmpty()) // never two believers at once
//	Expect(s.Samples()).To(BeNumerically(">", 500))
package electiontest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Elector is anything that takes part in an election and knows whether it
// believes it won; *locker.Node is one.
type Elector interface {
	ID() string
	Elected() bool
}

// Elected returns the IDs of the electors that believe they are elected now,
// in the order given.
func Elected[E Elector](electors ...E) []string {
	var ids []string
	for _, e := range electors {
		if e.Elected() {
			ids = append(ids, e.ID())
		}
	}
	return ids
}

// maxOverlaps bounds what a Sampler keeps: the first few overlaps say what
// went wrong; a long run must not grow without bound.
const maxOverlaps = 20

// Sampler reads the belief of every elector, one after another, on every
// tick, and remembers the instants when more than one believed.
type Sampler struct {
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	samples  atomic.Int64

	mu       sync.Mutex
	overlaps []string
}

// Sample starts sampling electors every interval until Stop.
func Sample[E Elector](interval time.Duration, electors ...E) *Sampler {
	s := &Sampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
			s.samples.Add(1)
			if ids := Elected(electors...); len(ids) > 1 {
				s.mu.Lock()
				if len(s.overlaps) < maxOverlaps {
					s.overlaps = append(s.overlaps, fmt.Sprintf("%s: %v", time.Now().Format("15:04:05.000000"), ids))
				}
				s.mu.Unlock()
			}
		}
	}()
	return s
}

// Samples is how many times every elector was read so far.
func (s *Sampler) Samples() int64 { return s.samples.Load() }

// Stop ends sampling and returns the instants when more than one elector
// believed it was elected, with their IDs (at most the first 20). Stop may
// be called more than once.
func (s *Sampler) Stop() []string {
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.overlaps...)
}
