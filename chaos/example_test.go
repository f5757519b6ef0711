package chaos_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// flag is an elector of its own: anything with ID and Elected.
type flag struct {
	id string
	on atomic.Bool
}

func (f *flag) ID() string    { return f.id }
func (f *flag) Elected() bool { return f.on.Load() }

func ExampleRecord() {
	a, b := &flag{id: "a"}, &flag{id: "b"}
	rec := chaos.Record(a, b)
	a.on.Store(true)
	waitSamples(rec, 3)
	b.on.Store(true) // both believe: an overlap
	waitSamples(rec, 3)
	a.on.Store(false)
	waitSamples(rec, 3)

	rep := rec.Stop()
	fmt.Println("safe:", rep.Safe())
	fmt.Println("overlap of:", rep.Overlaps[0].IDs)
	// Output:
	// safe: false
	// overlap of: [a b]
}

// A condition is recorded next to electors (or alone): the report says
// when it did not hold and for how long, and fails it past its MaxFalse.
func ExampleCondition() {
	var registered atomic.Bool // kept up to date by the code under test
	registered.Store(true)
	rec := chaos.RecordWith(chaos.RecordOptions{Conditions: []chaos.Condition{
		{Name: "registered", Holds: registered.Load, MaxFalse: time.Hour},
	}})
	waitSamples(rec, 3)
	registered.Store(false) // the service drops out of the registry...
	waitSamples(rec, 3)
	registered.Store(true) // ...and comes back, well within its hour
	waitSamples(rec, 3)

	rep := rec.Stop()
	c := rep.Conditions[0]
	fmt.Println("safe:", rep.Safe())
	fmt.Println("false spans:", len(c.False), "over the bound:", len(c.Violations()))
	// Output:
	// safe: true
	// false spans: 1 over the bound: 0
}

// Within is a Check of Gomega assertions, tried until they pass; Run calls
// it after every heal. Called here by hand.
func ExampleWithin() {
	var tries atomic.Int32
	check := chaos.Within(time.Second, func(g gomega.Gomega) {
		g.Expect(tries.Add(1)).To(gomega.BeNumerically(">=", 3), "up on the third try")
	})
	fmt.Println("passed:", check(context.Background()) == nil, "after", tries.Load(), "tries")
	// Output:
	// passed: true after 3 tries
}

// waitSamples returns once rec has read every elector n more times.
func waitSamples(rec *chaos.Recording, n int64) {
	for start := rec.Samples(); rec.Samples() < start+n; {
		time.Sleep(100 * time.Microsecond) // polls a counter the recorder advances every 0.5 ms
	}
}

func ExampleRun() {
	ctx := context.Background()
	cluster, err := etcdtest.Start(ctx, etcdtest.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cluster.Stop(ctx)

	tl, err := chaos.Run(ctx, cluster, chaos.Options{
		Seed:     42,
		Duration: 2 * time.Second,
		Faults:   []chaos.Fault{chaos.Pause, chaos.Isolate, chaos.Latency},
	})
	if err != nil {
		fmt.Println(err) // names the step and the seed that replays it
		return
	}
	fmt.Println("steps:", len(tl.Steps) > 0)
	fmt.Println("replay:", tl.Replay())
	for _, m := range cluster.Members() {
		fmt.Println(m.Name(), m.State()) // Run healed everything before it returned
	}
	// Output:
	// steps: true
	// replay: chaos.Options{Seed: 42, Duration: 2 * time.Second, Faults: []chaos.Fault{chaos.Pause, chaos.Isolate, chaos.Latency}}
	// node1 running
	// node2 running
	// node3 running
}
