/*
Package matchers holds Gomega matchers that poll real etcd state: election
outcomes of locker nodes, keys, and the health of an etcdtest cluster.

	Eventually(node).Should(matchers.BeElected())
	Eventually(follower).Should(matchers.HaveLeader("a"))
	Eventually(follower).Should(matchers.HaveValue("10.0.0.7:8080"))
	Eventually(cluster.Member(1).Key("/config")).Should(matchers.HaveValue(ContainSubstring("v2")))
	Eventually(cluster.Key("/lock")).Should(matchers.BeMissing())
	Eventually(nodes).Should(matchers.HaveExactlyOneElected())
	Eventually(cluster).Should(matchers.BeHealthy())

Import this package qualified, as matchers: Gomega exports a HaveValue of its
own (which dereferences pointers), so a dot import of both does not compile.

# Polling

Every Match reads current state: the node's view, or etcd itself, each etcd
request bounded by QueryTimeout. So Eventually waits for an outcome and
Consistently holds one, and a matcher never hangs on a frozen member.

A failed read (a paused or killed member, a lost quorum) is not an error: the
matcher reports no match, Eventually tries again on its next poll, and the
failure message says what the read returned. Because a failed read is "no
match", the negated forms pass while etcd does not answer: prefer
Should(HaveValue(Not(Equal("old")))) to ShouldNot(HaveValue("old")), and
Should(HaveValue(Anything())) to ShouldNot(BeMissing()), where that matters.

Where the answer cannot change any more (a closed node, a stopped cluster, a
key whose client is closed) the matchers say so through Gomega's
MatchMayChangeInTheFuture, and Eventually gives up at once instead of waiting
out its timeout. An actual of the wrong type is an error, not a mismatch.

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
