package locker

import "time"

// BeliefWindow exposes beliefWindow to the tests' bounds.
const BeliefWindow = beliefWindow

// Abandon stops the node's goroutines without resigning, revoking or marking
// it closed: to the election it is a crashed or frozen process, and its
// Elected must still turn false at the end of its belief window.
func Abandon(n *Node) {
	n.cancel()
	n.loops.Wait()
}

// LeaseOf is the node's current lease, 0 for none.
func LeaseOf(n *Node) int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return int64(n.state.lease.id)
}

// Granted is the TTL etcd granted the node's lease.
func Granted(n *Node) time.Duration {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.state.lease.granted
}
