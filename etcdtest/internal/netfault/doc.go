// Package netfault decides the fate of peer traffic under a cluster's
// network faults — partitions, one-way cuts, added latency and random loss —
// and which members can still make progress together (Majority). Members
// are indexes 0..n-1. Every decision is a pure function of a snapshot and
// member facts, tested in tables; the two proxy policies that apply them
// (PeerPolicy in front of a member's peer URL, LinkPolicy in front of a
// client link) are tested over real TCP without etcd, and learn what they
// need of processes and members through functions etcdtest gives them.
//
// A Faults value is one immutable snapshot. A Store holds the current one
// and swaps it atomically; the With methods return the next:
//
//	f := (*netfault.Faults)(nil).WithGroups([]int{0, 1, 1}) // member 0 apart
//	f.Reaches(0, 1)                                       // false
//	f = f.WithCut(netfault.Route{From: 1, To: 2})
//	f.Judge(1, 2, roll)                                   // proxy.Hole
//	f.Describe(name)                                      // "{node1} | {node2 node3}; node2 -/-> {node3}"
//
// Directions follow etcd's rafthttp. On a connection member X opened to
// member Y's proxy, request bytes are X→Y traffic and response bytes are
// Y→X traffic: a raft stream is a GET opened by the receiver to the
// sender's peer URL (the sender writes messages into the response), while
// pipelined messages and snapshots are POSTs opened by the sender. So a
// one-way fault is judged per connection and per direction (RouteOf), never
// per connection alone. A partition cuts both directions and acts on whole
// connections: they are refused and closed.
//
// What "loss" means: TCP does not lose bytes, it loses connections. Dropping
// chunks out of a stream (what etcd's robustness DropPeerNetwork does) hands
// the receiver broken HTTP and raft framing, which it notices at a time that
// depends on what the lost bytes were. Here a lost chunk takes its
// connection with it: the proxy discards the chunk and resets the connection
// both ways, so the members see a reset at once, lose whatever was in flight
// on it, and redial — every loss is noticed, nothing waits on a half message.
//
// A one-way cut black-holes the cut direction: its bytes vanish while the
// other direction flows. The bytes that vanished may have broken the
// framing, so when a cut is lifted every connection whose cut direction
// carried bytes is closed; the members redial cleanly.
package netfault
