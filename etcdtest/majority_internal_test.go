package etcdtest

import (
	"slices"
	"testing"
)

// The majority rule settling waits on, decided on facts alone.
func TestMajorityOf(t *testing.T) {
	up, down, learner, removed := memberFact{up: true, votes: true}, memberFact{votes: true}, memberFact{up: true}, memberFact{}
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
		facts   []memberFact
		reaches func(int, int) bool
		want    []int
	}{
		{"three up", []memberFact{up, up, up}, all, []int{0, 1, 2}},
		{"one down: the two others", []memberFact{up, down, up}, all, []int{0, 2}},
		{"two down: no quorum", []memberFact{down, up, down}, all, nil},
		{"member 0 isolated", []memberFact{up, up, up}, apart([2]int{0, 1}, [2]int{0, 2}), []int{1, 2}},
		{"every member apart", []memberFact{up, up, up}, apart([2]int{0, 1}, [2]int{0, 2}, [2]int{1, 2}), nil},
		{"a one-way cut: 0 and 1 still meet through 2", []memberFact{up, up, up}, oneWay(0, 1), []int{0, 1, 2}},
		{"a one-way cut and member 2 down: each alone", []memberFact{up, up, down}, oneWay(0, 1), nil},
		{"a learner follows but does not count", []memberFact{up, down, down, learner}, all, nil},
		{"a learner with a voting quorum is in the group", []memberFact{up, up, down, learner}, all, []int{0, 1, 3}},
		{"a removed member is no voter: 2 of 3 left is a quorum", []memberFact{up, up, down, removed}, all, []int{0, 1}},
		{"five members, partition 2|3: the three", []memberFact{up, up, up, up, up},
			apart([2]int{0, 2}, [2]int{0, 3}, [2]int{0, 4}, [2]int{1, 2}, [2]int{1, 3}, [2]int{1, 4}), []int{2, 3, 4}},
		{"four members split 2|2: no quorum", []memberFact{up, up, up, up},
			apart([2]int{0, 2}, [2]int{0, 3}, [2]int{1, 2}, [2]int{1, 3}), nil},
	} {
		if got := majorityOf(tc.facts, tc.reaches); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
