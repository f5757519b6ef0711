package raftid

import "testing"

// The IDs are checked against etcd's own at every boot (readiness refuses
// a cluster whose members answer with other IDs); here, the properties
// that make them tell clusters apart.
func TestIDsDependOnURLAndTokenButNotOnOrder(t *testing.T) {
	a := Member("http://127.0.0.1:2380", "tok-1")
	b := Member("http://127.0.0.1:2381", "tok-1")
	if a == b || a == Member("http://127.0.0.1:2380", "tok-2") || a != Member("http://127.0.0.1:2380", "tok-1") {
		t.Fatal("a member's ID must be a function of its peer URL and the token, and differ when either does")
	}
	if Cluster([]uint64{a, b}) != Cluster([]uint64{b, a}) {
		t.Error("the cluster ID depends on the members' order")
	}
	if Cluster([]uint64{a, b}) == Cluster([]uint64{a}) {
		t.Error("the cluster ID does not change with its members")
	}
	ids := []uint64{b, a}
	Cluster(ids)
	if ids[0] != b {
		t.Error("Cluster sorted its caller's slice")
	}
}
