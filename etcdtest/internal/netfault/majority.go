package netfault

import "slices"

// Member is what the majority rule needs to know of a member.
type Member struct {
	Up    bool // running and not paused
	Votes bool // counts toward the quorum: a voter that was not removed
}

// Majority is the majority rule, a pure function of member facts and the
// network: the largest set of up members connected both ways (directly or
// through each other), if its voters are a quorum of all the voters; nil
// otherwise. Learners in the set follow its leader but do not count.
// Indexes are in order.
func Majority(facts []Member, reaches func(from, to int) bool) []int {
	voters := 0
	for _, f := range facts {
		if f.Votes {
			voters++
		}
	}
	quorum := voters/2 + 1
	seen := make([]bool, len(facts))
	var best []int
	bestVotes := 0
	for i, f := range facts {
		if seen[i] || !f.Up {
			continue
		}
		// The connected component of member i, over routes open both ways.
		comp := []int{i}
		seen[i] = true
		for k := 0; k < len(comp); k++ {
			a := comp[k]
			for b, fb := range facts {
				if !seen[b] && fb.Up && reaches(a, b) && reaches(b, a) {
					seen[b] = true
					comp = append(comp, b)
				}
			}
		}
		n := 0
		for _, j := range comp {
			if facts[j].Votes {
				n++
			}
		}
		if n > bestVotes {
			slices.Sort(comp)
			best, bestVotes = comp, n
		}
	}
	if bestVotes < quorum {
		return nil
	}
	return best
}
