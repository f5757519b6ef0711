package netfault

import (
	"slices"
	"testing"
	"time"
)

// The majority rule settling waits on, decided on facts alone.
func TestMajority(t *testing.T) {
	up, down, learner, removed := Member{Up: true, Votes: true}, Member{Votes: true}, Member{Up: true}, Member{}
	all := func(int, int) bool { return true }
	// apart cuts the given pairs off from each other both ways.
	apart := func(pairs ...[2]int) func(int, int) bool {
		return func(a, b int) bool {
			for _, p := range pairs {
				if p == [2]int{a, b} || p == [2]int{b, a} {
					return false
				}
			}
			return true
		}
	}
	oneWay := func(from, to int) func(int, int) bool {
		return func(a, b int) bool { return a != from || b != to }
	}
	for _, tc := range []struct {
		name    string
		facts   []Member
		reaches func(int, int) bool
		want    []int
	}{
		{"three up", []Member{up, up, up}, all, []int{0, 1, 2}},
		{"one down: the two others", []Member{up, down, up}, all, []int{0, 2}},
		{"two down: no quorum", []Member{down, up, down}, all, nil},
		{"member 0 isolated", []Member{up, up, up}, apart([2]int{0, 1}, [2]int{0, 2}), []int{1, 2}},
		{"every member apart", []Member{up, up, up}, apart([2]int{0, 1}, [2]int{0, 2}, [2]int{1, 2}), nil},
		{"a one-way cut: 0 and 1 still meet through 2", []Member{up, up, up}, oneWay(0, 1), []int{0, 1, 2}},
		{"a one-way cut and member 2 down: each alone", []Member{up, up, down}, oneWay(0, 1), nil},
		{"a learner follows but does not count", []Member{up, down, down, learner}, all, nil},
		{"a learner with a voting quorum is in the group", []Member{up, up, down, learner}, all, []int{0, 1, 3}},
		{"a removed member is no voter: 2 of 3 left is a quorum", []Member{up, up, down, removed}, all, []int{0, 1}},
		{"five members, partition 2|3: the three", []Member{up, up, up, up, up},
			apart([2]int{0, 2}, [2]int{0, 3}, [2]int{0, 4}, [2]int{1, 2}, [2]int{1, 3}, [2]int{1, 4}), []int{2, 3, 4}},
		{"four members split 2|2: no quorum", []Member{up, up, up, up},
			apart([2]int{0, 2}, [2]int{0, 3}, [2]int{1, 2}, [2]int{1, 3}), nil},
	} {
		if got := Majority(tc.facts, tc.reaches); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

// The rule over a real snapshot's Reaches: what settling asks after Isolate
// and CutOneWay.
func TestMajorityOverFaults(t *testing.T) {
	up := Member{Up: true, Votes: true}
	var none *Faults
	for _, tc := range []struct {
		name string
		f    *Faults
		want []int
	}{
		{"no faults", nil, []int{0, 1, 2}},
		{"member 1 isolated", none.WithGroups([]int{0, 1, 0}), []int{0, 2}},
		{"member 0 cut off both ways by cuts", none.WithCut(Route{0, 1}, Route{2, 0}), []int{1, 2}},
		{"member 2 loses everything", none.WithDrop(1, 2), []int{0, 1}},
		{"latency keeps everyone", none.WithDelay(time.Second, 0, 1, 2), []int{0, 1, 2}},
	} {
		if got := Majority([]Member{up, up, up}, tc.f.Reaches); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
