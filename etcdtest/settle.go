package etcdtest

// Settling: a fault returns once its consequence holds, not just its cause.
// (Being written; the stubs keep the fault methods' call sites stable.)

// settleAfterFault waits, after a fault, until the members that still form
// a majority agree on a raft leader among themselves.
func (c *Cluster) settleAfterFault(op string) error { return nil }

// settleAfterRepair waits, after a repair, until every running member
// agrees on one raft leader.
func (c *Cluster) settleAfterRepair(op string) error { return nil }
