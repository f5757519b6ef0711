package locker

import (
	"bytes"
	"runtime"
	"strconv"
)

// Callbacks run on one goroutine per node, in the order their events
// happened, never concurrently. The queue is unbounded so that recording an
// event never waits for a slow callback.

func (n *Node) enqueueLocked(fn func()) {
	n.queue = append(n.queue, fn)
	n.kick(n.kickDeliver)
}

func (n *Node) deliverLoop() {
	defer close(n.deliverDone)
	n.deliverGID.Store(goroutineID())
	for {
		n.mu.Lock()
		if n.ctx.Err() != nil {
			n.queue = nil
			n.mu.Unlock()
			return
		}
		if len(n.queue) == 0 {
			n.mu.Unlock()
			select {
			case <-n.kickDeliver:
			case <-n.ctx.Done():
			}
			continue
		}
		fn := n.queue[0]
		n.queue[0] = nil
		n.queue = n.queue[1:]
		n.mu.Unlock()
		fn()
	}
}

// goroutineID lets Close tell whether it is called from a callback, where
// waiting for the callback goroutine to end would wait forever.
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		id, _ := strconv.ParseUint(string(b[:i]), 10, 64)
		return id
	}
	return 0
}
