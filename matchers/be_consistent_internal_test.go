package matchers

import (
	"slices"
	"testing"
)

// The decision BeConsistent makes on the members' answers, without etcd:
// each way a cluster can be inconsistent, and the near miss beside it that
// is not.
func TestCheckConsistent(t *testing.T) {
	h := func(member string, revision int64, hash uint32, hashRev, compactRev int64) memberHash {
		return memberHash{member: member, revision: revision, hash: hash, hashRevision: hashRev, compactRevision: compactRev}
	}
	for _, tc := range []struct {
		name   string
		hashes []memberHash
		groups [][]string
	}{
		{"equal hashes at one revision",
			[]memberHash{h("node1", 12, 7, 12, -1), h("node2", 12, 7, 12, -1), h("node3", 12, 7, 12, -1)},
			[][]string{{"node1", "node2", "node3"}}},
		{"one member's hash differs (a diverged or damaged member)",
			[]memberHash{h("node1", 12, 7, 12, -1), h("node2", 12, 9, 12, -1), h("node3", 12, 7, 12, -1)},
			[][]string{{"node1", "node3"}, {"node2"}}},
		{"near miss: members at different revisions, equal hashes at the lowest",
			[]memberHash{h("node1", 15, 7, 12, -1), h("node2", 12, 7, 12, -1), h("node3", 14, 7, 12, -1)},
			[][]string{{"node1", "node2", "node3"}}},
		{"equal hash, different compact revision (a compaction one member missed)",
			[]memberHash{h("node1", 12, 7, 12, 5), h("node2", 12, 7, 12, -1)},
			[][]string{{"node1"}, {"node2"}}},
		{"near miss: equal compact revisions after a compaction",
			[]memberHash{h("node1", 12, 7, 12, 5), h("node2", 13, 7, 12, 5)},
			[][]string{{"node1", "node2"}}},
		{"equal hash over different revisions (etcd hashed another revision than asked)",
			[]memberHash{h("node1", 12, 7, 12, -1), h("node2", 13, 7, 13, -1)},
			[][]string{{"node1"}, {"node2"}}},
		{"three ways apart",
			[]memberHash{h("node1", 12, 1, 12, -1), h("node2", 12, 2, 12, -1), h("node3", 12, 3, 12, -1)},
			[][]string{{"node1"}, {"node2"}, {"node3"}}},
		{"near miss: one member alone agrees with itself",
			[]memberHash{h("node1", 12, 7, 12, -1)},
			[][]string{{"node1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := checkConsistent(tc.hashes)
			if !slices.EqualFunc(got, tc.groups, slices.Equal) {
				t.Errorf("checkConsistent = %v, want %v", got, tc.groups)
			}
		})
	}
}

// The revision compared is one every member has applied.
func TestCheckConsistentRevision(t *testing.T) {
	for _, tc := range []struct {
		revisions []int64
		want      int64
	}{
		{[]int64{12}, 12},
		{[]int64{15, 12, 14}, 12},
		{[]int64{12, 15}, 12},
		{[]int64{1, 1, 1}, 1},
	} {
		if got := lowestRevision(tc.revisions); got != tc.want {
			t.Errorf("lowestRevision(%v) = %d, want %d", tc.revisions, got, tc.want)
		}
	}
}

// A compaction applied by one member and not yet by another is a poll to
// repeat; equal compact revisions are final, equal hashes or not.
func TestCheckConsistentCompactionInFlight(t *testing.T) {
	for _, tc := range []struct {
		compact []int64
		same    bool
	}{
		{[]int64{-1, -1, -1}, true},
		{[]int64{5, 5}, true},
		{[]int64{5, -1, 5}, false},
		{[]int64{5, 8}, false},
		{[]int64{3}, true},
	} {
		hashes := make([]memberHash, len(tc.compact))
		for i, c := range tc.compact {
			hashes[i] = memberHash{member: "m", compactRevision: c}
		}
		if got := sameCompactRevision(hashes); got != tc.same {
			t.Errorf("sameCompactRevision(%v) = %v, want %v", tc.compact, got, tc.same)
		}
	}
}

// The failure message names each member, its revision, hash, hash revision
// and compact revision, which members agree, and who was left out.
func TestCheckConsistentMessage(t *testing.T) {
	c := comparison{
		what:     "etcd cluster (node1, node2, node3, node4)",
		revision: 12,
		hashes: []memberHash{
			{member: "node1", revision: 14, hash: 2754054913, hashRevision: 12, compactRevision: 5},
			{member: "node2", revision: 12, hash: 758130471, hashRevision: 12, compactRevision: 5},
		},
		skipped: []leftOut{{"node3", "killed"}, {"node4", "a learner"}},
	}
	want := `Expected etcd cluster (node1, node2, node3, node4) to be consistent, but the KV hashes of its voting members at revision 12 differ:
    node1 at revision 14: hash 2754054913 (hash revision 12, compact revision 5)
    node2 at revision 12: hash 758130471 (hash revision 12, compact revision 5)
    equal answers: {node1} | {node2}
    not compared: node3 (killed), node4 (a learner)
`
	if got := c.message("to be consistent", "differ"); got != want {
		t.Errorf("message:\n%s\nwant:\n%s", got, want)
	}

	c.hashes[1].hash, c.hashes[1].compactRevision = 2754054913, 5
	c.hashes[0].compactRevision, c.hashes[1].compactRevision = -1, -1
	c.skipped = nil
	want = `Expected etcd cluster (node1, node2, node3, node4) not to be consistent, but the KV hashes of its voting members at revision 12 are equal:
    node1 at revision 14: hash 2754054913 (hash revision 12, compact revision none)
    node2 at revision 12: hash 2754054913 (hash revision 12, compact revision none)
`
	if got := c.message("not to be consistent", "are equal"); got != want {
		t.Errorf("negated message:\n%s\nwant:\n%s", got, want)
	}
}
