package chaos

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// steps draws n steps of a schedule without a cluster, with what each
// draws (the members' order, the link, the amount) as Run would use them.
func steps(t *testing.T, opts Options, members, n int) []draws {
	t.Helper()
	return stepsOn(t, opts, members, false, n)
}

// stepsOn is steps on a cluster with or without failpoints.
func stepsOn(t *testing.T, opts Options, members int, failpoints bool, n int) []draws {
	t.Helper()
	p, err := newSchedule(opts, members, failpoints)
	if err != nil {
		t.Fatal(err)
	}
	var ds []draws
	for i := 1; i <= n; i++ {
		p.next(i)
		ds = append(ds, p.pending)
	}
	return ds
}

func TestCheckScheduleIsAFunctionOfItsOptions(t *testing.T) {
	base := Options{Seed: 42, Duration: 20 * time.Second}
	a, b := steps(t, base, 3, 50), steps(t, base, 3, 50)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("one seed drew two different schedules")
	}
	for name, other := range map[string]Options{
		"another seed":  {Seed: 43, Duration: 20 * time.Second},
		"other faults":  {Seed: 42, Duration: 20 * time.Second, Faults: []Fault{Kill, Pause}},
		"other targets": {Seed: 42, Duration: 20 * time.Second, Targets: []Target{Minority}},
		"other holds":   {Seed: 42, Duration: 20 * time.Second, MinHold: time.Second, MaxHold: 2 * time.Second},
		"a client link": {Seed: 42, Duration: 20 * time.Second, Links: make([]*etcdtest.ClientLink, 1)},
	} {
		if reflect.DeepEqual(a, steps(t, other, 3, 50)) {
			t.Errorf("%s drew the same schedule: Replay must carry it, and the draw must depend on it", name)
		}
	}
	// The near miss: Duration bounds how many steps run, not what each draws.
	if !reflect.DeepEqual(a, steps(t, Options{Seed: 42, Duration: time.Minute}, 3, 50)) {
		t.Error("Duration changed the steps drawn")
	}
}

func TestCheckReplayCarriesEveryOptionThatChangesTheSteps(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Seed: 42, Duration: 20 * time.Second}, "chaos.Options{Seed: 42, Duration: 20 * time.Second}"},
		{Options{Seed: -1, Duration: 1500 * time.Millisecond, Faults: []Fault{Kill, CutClient}, Targets: []Target{RaftLeader, Majority}},
			"chaos.Options{Seed: -1, Duration: 1500 * time.Millisecond, Faults: []chaos.Fault{chaos.Kill, chaos.CutClient}, Targets: []chaos.Target{chaos.RaftLeader, chaos.Majority}}"},
		{Options{Seed: 7, Duration: time.Minute, MinHold: 50 * time.Millisecond, MaxHold: time.Second, Links: make([]*etcdtest.ClientLink, 3)},
			"chaos.Options{Seed: 7, Duration: time.Minute, MinHold: 50 * time.Millisecond, MaxHold: time.Second, Links: /* the same 3 client links, in order */}"},
	} {
		if got := (Timeline{Seed: tc.opts.Seed, Duration: tc.opts.Duration, opts: tc.opts}).Replay(); got != tc.want {
			t.Errorf("Replay:\n got %s\nwant %s", got, tc.want)
		}
	}
}

func TestCheckScheduleRefusesBadOptions(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{MinHold: time.Second, MaxHold: time.Millisecond}, "MaxHold 1ms is below MinHold 1s"},
		{Options{Faults: []Fault{CutClient}}, "CutClient also needs Options.Links"},
		{Options{Faults: []Fault{"flood"}}, `unknown fault "flood"`},
		{Options{Targets: []Target{"everyone"}}, `unknown target "everyone"`},
		{Options{Faults: []Fault{Kill, Failpoint}}, "has chaos.Failpoint, but the cluster's etcd has no failpoints: start it with etcdtest.Config{Failpoints: true}"},
	} {
		if _, err := newSchedule(tc.opts, 3, false); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want an error containing %q", tc.opts, err, tc.want)
		}
	}
}

// Failpoint is drawn only on clusters with failpoints, and adding it to the
// defaults left every plain cluster's schedule as it was: a seed recorded
// before replays the same steps.
func TestCheckFailpointIsChosenOnlyOnClustersWithFailpoints(t *testing.T) {
	base := Options{Seed: 42, Duration: 20 * time.Second}
	before := Options{Seed: 42, Duration: 20 * time.Second, Faults: []Fault{Kill, Pause, Restart, Isolate, Partition, OneWay, Latency, Loss, MoveLeader}}
	plain := stepsOn(t, base, 3, false, 200)
	if !reflect.DeepEqual(plain, stepsOn(t, before, 3, false, 200)) {
		t.Error("a plain cluster's default schedule changed with the Failpoint fault")
	}
	withFP := stepsOn(t, base, 3, true, 200)
	seen := map[string]bool{}
	for i, d := range plain {
		if d.fault == Failpoint {
			t.Fatalf("step %d of a plain cluster drew Failpoint", i+1)
		}
	}
	for _, d := range withFP {
		if d.fault == Failpoint {
			seen[failpointOf(d).name+"="+failpointOf(d).action] = true
		}
	}
	if len(seen) < 5 {
		t.Errorf("200 steps with failpoints drew %d distinct failpoints (%v); want the curated list's spread", len(seen), seen)
	}
	if !reflect.DeepEqual(withFP, stepsOn(t, base, 3, true, 200)) {
		t.Error("one seed drew two failpoint schedules")
	}
	// Alone, every step is a failpoint, and which one follows the seed.
	only := Options{Seed: 7, Duration: time.Minute, Faults: []Fault{Failpoint}}
	a, b := stepsOn(t, only, 3, true, 30), stepsOn(t, Options{Seed: 8, Duration: time.Minute, Faults: []Fault{Failpoint}}, 3, true, 30)
	var pa, pb []curatedFailpoint
	for i := range a {
		pa, pb = append(pa, failpointOf(a[i])), append(pb, failpointOf(b[i]))
	}
	if reflect.DeepEqual(pa, pb) {
		t.Error("two seeds armed the same failpoints")
	}
}

// failpointOf covers the whole curated list and never runs past it.
func TestCheckFailpointOfCoversTheCuratedList(t *testing.T) {
	n := len(curatedFailpoints)
	if got := failpointOf(draws{amount: 0}); got != curatedFailpoints[0] {
		t.Errorf("amount 0: %v", got)
	}
	if got := failpointOf(draws{amount: 0.9999999}); got != curatedFailpoints[n-1] {
		t.Errorf("amount just below 1: %v; want the last", got)
	}
	if got := failpointOf(draws{amount: float64(n-1) / float64(n)}); got != curatedFailpoints[n-1] {
		t.Errorf("amount (n-1)/n: %v; want the last", got)
	}
}
