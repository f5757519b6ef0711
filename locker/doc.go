// Package locker elects one leader among nodes competing on an etcd path,
// and tells every node who it is and what value it wrote.
//
//	node, err := locker.New(client, "/services/scheduler", locker.WithID("host-a"))
//	if err != nil { ... }
//	defer node.Close()
//	node.OnSelect(func(ctx context.Context, value string) {
//		go runScheduler(ctx) // ctx ends the moment this node must stop
//	})
//	node.OnChange(func(value, leaderID string) { log.Printf("leader %q: %s", leaderID, value) })
//	err = node.Write(ctx, "10.0.0.7:8080") // join the election with a value
//
// # The election
//
// Every node that has written owns one key, path/ID, created under its own
// lease in a transaction that requires the key not to exist. Keys are ordered
// by create revision: the first one is the leader. A node that writes while
// others are ahead of it keeps its place; the leader that writes resigns
// first, so a new election is held and its new value applies at the end of
// the line. Reset and Close delete the key (Close also revokes the lease);
// the next node is elected within milliseconds. A crashed node's key goes
// when its lease expires: within the TTL plus etcd's lease check interval
// (half a second) plus the belief window below.
//
// Each node watches the path from a known revision and delivers, one at a
// time and in revision order, every change of the leader or its value to
// OnChange ("" for no leader), and its own election to OnSelect, after the
// change that names it. A node that loses its session (lease expired or
// revoked, key deleted) rejoins by itself with a new lease and its last
// written value; its key is then at the end of the line.
//
// # The fencing token
//
// Leader().Revision, the create revision of the leader's key, strictly
// increases with every new election, a leader's own Write included. Pass it
// with every action taken as leader to the systems acted on, and have them
// refuse a token smaller than the largest they have seen.
//
// # What "elected" promises
//
// Elected is true only while the node's key is first under the path, under
// its own live lease, and a linearizable read sent less than 400ms ago found
// it so (the leader repeats that read every 100ms). A node that resigns stops
// believing before its key is deleted; a node whose key went any other way
// (expiry, revocation or deletion by another client) is given those 400ms to
// find out before the next node believes it is elected. So at most one node
// believes it is elected at any instant, also when the leader's etcd member
// is killed or frozen, its client cut off, or its process stopped: Elected
// reads the clock, and OnSelect's context is cancelled by a timer at the
// deadline. This holds between nodes whose clocks run at the same rate (one
// machine, or machines with sane clocks); it does not depend on their clocks
// agreeing.
//
// # Who can end an election, and what the next node waits for
//
// The next node in line may believe as soon as the old leader's belief is
// provably over. What it can prove depends on who removed the old key, and
// all it sees is a delete event:
//
//   - The leader itself (Reset, Close, Write): it stops believing before it
//     sends the transaction that deletes its key, and the same transaction
//     writes a resign marker naming the key. The next node sees the marker and
//     believes at once.
//   - Lease expiry (the leader crashed, froze, or lost etcd: its client cut
//     off, its member killed, paused or isolated): the leader stopped
//     believing at "last keep-alive sent + TTL"; etcd expires the lease no
//     earlier (it renews a lease when it receives a keep-alive, which is after
//     it was sent, and refuses to renew an expired one), and deletes the key
//     after it expired. This one alone needs no wait.
//   - Another client revokes the lease (an operator's etcdctl lease revoke, a
//     test): the key goes at once, and the leader, if it cannot hear etcd,
//     goes on believing until its last proof + 400ms.
//   - Another client deletes the key (etcdtest's Cluster.Reset, etcdctl del):
//     the same, with the lease still alive.
//   - Compaction deletes no key, but a node whose watch fell behind it reloads
//     the path and cannot tell how a first key it missed went away.
//
// etcd records an expiry exactly as it records a revocation — a lease revoke
// in the raft log, the same delete events — and keeps the leader's keep-alive
// times to itself (TimeToLive answers in whole seconds). So no node can prove
// that a key went by expiry, and after every deletion without a marker the
// next node waits the whole 400ms. That is the price of the guarantee against
// revocation and deletion by other clients: a crashed leader (TTL 1s) is
// replaced in about 1.6s, 1.2s of it etcd's expiry (the TTL from the last
// keep-alive, plus etcd's half-second lease check) and 0.4s the wait
// (BenchmarkCrashedLeader, seen-ms and median-ms).
//
// What it cannot promise without fencing: a leader may start an action just
// before its belief ends, and the action may land after another node was
// elected — a process paused between a check and a write (a GC pause, a
// SIGSTOP, a slow disk) cannot be told anything. Only the fencing token,
// checked by the system receiving the write, makes such a late write
// harmless.
//
// # The properties, and the specs that show them
//
// The suite runs each on a real 3-member cluster (go test ./locker); specs
// cite them as "Property N". The rules behind 1, 2 and 4 are also
// table-tested without etcd in machine_test.go (go test ./locker -run
// '^TestMachine').
//
//  1. At most one node believes it is elected at any instant, also when the
//     leader's client is cut off, its etcd member is killed, or its process is
//     paused: belief ends at "last proof sent + belief window" and "last
//     keep-alive sent + TTL", not when the session says so.
//     safety_test.go: Describe("At most one node believes it is elected at any
//     instant") (member killed; member paused and lease revoked; process
//     stopped; graceful handovers); partition_test.go: Describe("At most one
//     node believes it is elected, under network faults") (client cut off;
//     member isolated) and Describe("A leader whose client is slow").
//  2. No phantom election: a node is elected only while its own key exists
//     under its own live lease, checked by create revision.
//     safety_test.go: Describe("No phantom election").
//  3. The fencing token (Leader().Revision) strictly increases with each new
//     election, Write by the leader included; a leader whose belief lapsed and
//     returned on the same key keeps its token.
//     safety_test.go: Describe("The fencing token").
//  4. Change events on every node converge to etcd's truth within 1s,
//     including "no leader", without duplicates, in revision order; select
//     comes after the change that elected the node.
//     events_test.go: Describe("Change events"); partition_test.go: It("when
//     the leader's etcd member (...) is isolated; healed, every node converges
//     to etcd within 1s").
//  5. Graceful handover (Reset, Close, Write by the leader) elects the next
//     node in at most 200ms; a crashed leader (no revoke) is replaced within
//     TTL + 1s.
//     faults_test.go: Describe("Handover"); bench_test.go measures both.
//  6. A leader whose client talks to all members keeps leadership while any
//     single etcd member, the raft leader included, is killed or restarted.
//     faults_test.go: Describe("A leader whose client talks to every
//     member"); partition_test.go: Describe("A leader whose client talks to
//     every member, under partitions").
//  7. After its session is lost (lease expired or revoked) a node rejoins by
//     itself with a new lease, leaving no stale keys; Close leaks no
//     goroutines.
//     faults_test.go: Describe("A node that loses its session");
//     partition_test.go: the cut-off and isolation specs check the rejoin.
//
// # Faults
//
// Give New a client that talks to every member of the cluster: a leader then
// keeps its leadership while any one member, the raft leader included, is
// killed or restarted, as long as the cluster elects a new raft leader within
// the 400ms belief window. Requests a node makes on its own key are retried
// every second, so one that went to a frozen member is sent again, to
// another member. A node whose watch stream is on a frozen member sees
// changes only once the member answers again (or its connection fails).
package locker
