//go:build unix

package chaos_test

import (
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
)

// BenchmarkRecord measures what a Recording costs: reads per elector per
// second and the CPU the process used meanwhile, as a share of one core,
// for 3 electors at DefaultInterval. Each iteration records for 2 s; run it
// once:
//
//	go test ./chaos -run '^$' -bench Record -benchtime 1x
func BenchmarkRecord(b *testing.B) {
	benchmarkRecord(b, chaos.RecordOptions{})
}

// BenchmarkRecordConditions is BenchmarkRecord with two conditions sampled
// next to the 3 electors:
//
//	go test ./chaos -run '^$' -bench RecordConditions -benchtime 1x
func BenchmarkRecordConditions(b *testing.B) {
	var holds atomic.Bool
	holds.Store(true)
	benchmarkRecord(b, chaos.RecordOptions{Conditions: []chaos.Condition{
		{Name: "registered", Holds: holds.Load}, {Name: "cache agrees", Holds: holds.Load},
	}})
}

func benchmarkRecord(b *testing.B, opts chaos.RecordOptions) {
	es := []chaos.Elector{&fake{id: "a"}, &fake{id: "b"}, &fake{id: "c"}}
	es[0].(*fake).elected.Store(true)
	for b.Loop() {
		cpu0 := cpuTime(b)
		rec := chaos.RecordWith(opts, es...)
		start := time.Now()
		time.Sleep(2 * time.Second) // the span being measured
		rep := rec.Stop()
		wall := time.Since(start)
		cpu := cpuTime(b) - cpu0
		b.ReportMetric(float64(rep.Samples)/wall.Seconds(), "samples/s/elector")
		b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "%cpu")
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
