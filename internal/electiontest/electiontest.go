// Package electiontest is what remains of the project's private belief
// sampler: a thin shim over chaos.Record for suites not yet moved to it
// (etcdtest's rolling-upgrade spec). New code uses chaos.Record and
// chaos.Elected directly.
//
//	s := electiontest.Sample(time.Millisecond, nodes...)
//	Expect(s.Stop()).To(BeEmpty()) // never two believers at once
package electiontest

import (
	"fmt"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
)

// Elector is chaos.Elector.
type Elector = chaos.Elector

// Elected returns the IDs of the electors that believe they are elected now.
func Elected[E Elector](electors ...E) []string { return chaos.Elected(electors...) }

// Sampler is a chaos.Recording that reports overlaps as lines.
type Sampler struct{ rec *chaos.Recording }

// Sample starts recording electors every interval until Stop.
func Sample[E Elector](interval time.Duration, electors ...E) *Sampler {
	return &Sampler{rec: chaos.RecordWith(chaos.RecordOptions{Interval: interval}, chaos.Electors(electors...)...)}
}

// Samples is how many times every elector was read so far.
func (s *Sampler) Samples() int64 { return s.rec.Samples() }

// Stop ends sampling and returns the overlaps, one line each with the time
// and the IDs (at most the first 20). Stop may be called more than once.
func (s *Sampler) Stop() []string {
	var lines []string
	for i, o := range s.rec.Stop().Overlaps {
		if i == 20 {
			break
		}
		lines = append(lines, fmt.Sprintf("%s: %v", o.From.Format("15:04:05.000000"), o.IDs))
	}
	return lines
}
