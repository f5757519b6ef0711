/*
Package matchers holds Gomega matchers that poll real etcd state: election
outcomes of locker nodes, keys, and the health of an etcdtest cluster; and
matchers that judge what was recorded: an election (chaos.Recording) and
what code did with etcd (chaos.History).

	Eventually(node).Should(matchers.BeElected())
	Eventually(follower).Should(matchers.HaveLeader("a"))
	Eventually(follower).Should(matchers.HaveValue("10.0.0.7:8080"))
	Eventually(cluster.Member(1).Key("/config")).Should(matchers.HaveValue(ContainSubstring("v2")))
	Eventually(cluster.Key("/lock")).Should(matchers.BeMissing())
	Eventually(nodes).Should(matchers.HaveExactlyOneElected())
	Eventually(cluster).Should(matchers.BeHealthy())
	Eventually(cluster).Should(matchers.HaveAlarm("NOSPACE"))
	Eventually(cluster).Should(matchers.HaveClusterVersion("3.7"))
	Eventually(member).ShouldNot(matchers.BeLearner())
	Expect(cluster).To(matchers.BeConsistent())
	Expect(recording.Stop()).To(matchers.BeSafe())
	Expect(history).To(matchers.BeLinearizable())
	Expect(history).To(matchers.HaveReliableWatches())

Import this package qualified, as matchers: Gomega exports a HaveValue of its
own (which dereferences pointers), so a dot import of both does not compile.

# Polling

Every Match reads current state: the node's view, or etcd itself, each etcd
request bounded by QueryTimeout. So Eventually waits for an outcome and
Consistently holds one, and a matcher never hangs on a frozen member.

# A read that fails is an error

The matchers that decide on what etcd holds — HaveValue and BeMissing on a
key, HaveRaftLeader — follow Gomega's convention for an actual that cannot
be read (HaveHTTPStatus, gexec.Exit): when the read fails (the member it
goes through is paused, killed or cut off, the quorum is lost, no answer
comes within QueryTimeout), Match returns an error, which is neither a match
nor a mismatch. So

  - Expect and Consistently fail, in the Should and the ShouldNot form alike:
    Consistently(key).ShouldNot(matchers.HaveValue("old")) never passes
    because etcd was silent;
  - Eventually polls again, and succeeds once the read does and matches.

The error names the matcher, what it read through which client or member,
and why:

	matchers.HaveValue: cannot read /config via node2: context deadline exceeded (no answer within QueryTimeout, 1s)

Answers etcd does give are matches or mismatches as usual: a key that does
not exist is a mismatch for HaveValue and a match for BeMissing, and members
that answer "no raft leader" are a mismatch for HaveRaftLeader.

BeHealthy is the deliberate exception: a member that does not answer is
what "not healthy" means, so it is a mismatch, and
Expect(member).NotTo(matchers.BeHealthy()) passes while the member is
paused. The node matchers (BeElected, HaveLeader, HaveValue on a node,
HaveExactlyOneElected) decide on the node's own belief, which needs no
request to etcd, so their Match cannot fail to read; their failure messages
read etcd only to describe it.

Where the answer cannot change any more (a closed node, a stopped cluster, a
key whose client is closed) the matchers say so through Gomega's
MatchMayChangeInTheFuture, and Eventually gives up at once instead of waiting
out its timeout, with the last error or failure message. An actual of the
wrong type is an error, not a mismatch.

# Failure messages

A node matcher's failure message names the node, what it sees (elected or
not, the leader, its value and fencing token, its last background error),
what etcd says (the election's keys in create-revision order, read through the
node's client as the message is written), and the node's last election events
with their times. BeHealthy names each member's state, the raft leader each
one sees, what failed, and any partition in force.

The matchers are safe to use from several goroutines; each keeps what its last
Match saw, for its message, under a lock.
*/
package matchers
