package netfault

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Describe says what f does, naming members with name: the partition,
// e.g. "{node1} | {node2 node3}", then one-way cuts, latency and loss, e.g.
// "node1 -/-> {node2 node3}; delay 200ms {node1}; drop 30% {node2}"; ""
// for none.
func (f *Faults) Describe(name func(int) string) string {
	if f == nil {
		return ""
	}
	names := func(is []int) string {
		slices.Sort(is)
		s := make([]string, len(is))
		for k, i := range is {
			s[k] = name(i)
		}
		return "{" + strings.Join(s, " ") + "}"
	}
	var parts []string
	if f.groups != nil {
		byGroup := map[int][]int{}
		for i, g := range f.groups {
			byGroup[g] = append(byGroup[g], i)
		}
		var sides []string
		for _, g := range slices.Sorted(maps.Keys(byGroup)) {
			sides = append(sides, names(byGroup[g]))
		}
		parts = append(parts, strings.Join(sides, " | "))
	}
	cutTo := map[int][]int{}
	for l := range f.cut {
		cutTo[l.From] = append(cutTo[l.From], l.To)
	}
	for _, from := range slices.Sorted(maps.Keys(cutTo)) {
		parts = append(parts, name(from)+" -/-> "+names(cutTo[from]))
	}
	byDelay := map[time.Duration][]int{}
	for i, d := range f.delay {
		byDelay[d] = append(byDelay[d], i)
	}
	for _, d := range slices.Sorted(maps.Keys(byDelay)) {
		parts = append(parts, "delay "+d.String()+" "+names(byDelay[d]))
	}
	byRate := map[float64][]int{}
	for i, r := range f.drop {
		byRate[r] = append(byRate[r], i)
	}
	for _, r := range slices.Sorted(maps.Keys(byRate)) {
		parts = append(parts, "drop "+strconv.FormatFloat(r*100, 'g', 4, 64)+"% "+names(byRate[r]))
	}
	return strings.Join(parts, "; ")
}
