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
// What it cannot promise without fencing: a leader may start an action just
// before its belief ends, and the action may land after another node was
// elected — a process paused between a check and a write (a GC pause, a
// SIGSTOP, a slow disk) cannot be told anything. Only the fencing token,
// checked by the system receiving the write, makes such a late write
// harmless.
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
