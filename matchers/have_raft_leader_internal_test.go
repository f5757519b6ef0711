package matchers

import (
	"context"
	"errors"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
)

// The rule HaveRaftLeader decides by, on answers no real cluster gives on
// demand (a running member that does not answer). Gomega is imported
// qualified here: its HaveValue would clash with this package's.
var _ = Describe("decideRaftLeader", func() {
	state := map[string]etcdtest.State{"running": etcdtest.Running, "paused": etcdtest.Paused, "killed": etcdtest.Killed, "external": etcdtest.External}
	// names says member follows leader, a member in leaderState; "" for a stranger.
	names := func(member, leader, leaderState string, term uint64) raftAnswer {
		return raftAnswer{member: member, state: etcdtest.Running, leader: leader, stranger: leader != "" && leaderState == "", leaderState: state[leaderState], term: term}
	}
	silent := func(member string) raftAnswer {
		return raftAnswer{member: member, state: etcdtest.Running, err: context.DeadlineExceeded}
	}
	is := func(member, st string) raftAnswer { return raftAnswer{member: member, state: state[st]} }

	DescribeTable("names the live leader of the highest term",
		func(want string, answers ...raftAnswer) {
			gomega.Expect(decideRaftLeader(answers)).To(gomega.Equal(want))
		},
		Entry("all agree", "node1", names("node1", "node1", "running", 2), names("node2", "node1", "running", 2), names("node3", "node1", "running", 2)),
		Entry("a newer term wins", "node2", names("node1", "node1", "running", 2), names("node2", "node2", "running", 3), names("node3", "node1", "running", 2)),
		Entry("a paused leader still leads", "node1", is("node1", "paused"), names("node2", "node1", "paused", 2), names("node3", "node1", "paused", 2)),
		Entry("a silent member does not hide a leader named by another", "node2", silent("node1"), names("node2", "node2", "running", 3), is("node3", "killed")),
		Entry("the members that run say nobody leads", "", is("node1", "paused"), is("node2", "killed"), names("node3", "", "", 4)),
		Entry("following a dead member is no leader", "", names("node1", "node3", "killed", 2), names("node2", "", "", 3), is("node3", "killed")),
		Entry("an external cluster's members are asked", "b", raftAnswer{member: "a", state: etcdtest.External, leader: "b", leaderState: etcdtest.External, term: 1}),
	)

	DescribeTable("is an error when nobody can say",
		func(want string, answers ...raftAnswer) {
			_, err := decideRaftLeader(answers)
			gomega.Expect(err).To(gomega.MatchError(want))
		},
		Entry("no member runs", "no member runs: node1 is paused; node2 is killed",
			is("node1", "paused"), is("node2", "killed")),
		Entry("a silent member may be the leader the others do not know yet",
			"no member that answered names a leader: node1 sees no leader; node2 did not answer: context deadline exceeded (no answer within QueryTimeout, 1s); node3 is paused",
			names("node1", "", "", 3), silent("node2"), is("node3", "paused")),
		Entry("a member names a stranger", "no member that answered names a leader: node1 names 2a, not a member of this cluster; node2 did not answer: down",
			names("node1", "2a", "", 3), raftAnswer{member: "node2", state: etcdtest.Running, err: errors.New("down")}),
	)
})
