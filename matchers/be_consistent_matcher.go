package matchers

// BeConsistent is etcd's own end-of-test check (tests/robustness,
// CheckEndOfTestHashKV): every voting member hashes its key space at one
// revision, and the hashes must be equal. Members apply the raft log at their
// own pace, so the revision compared is the lowest one any of them has
// applied (each member's own Status header): a member that lags, or sits
// behind a partition, is compared on what it holds, not waited for. A
// compaction applied by one member and not yet by another makes their
// compact revisions differ (or the lowest revision compacted away on the
// faster one) for a moment; such a poll is asked again within QueryTimeout.
// Equal compact revision and different hash is what etcd's corruption
// checker raises its CORRUPT alarm on, and is reported at once. Deciding is
// the pure checkConsistent, table-tested without etcd.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/onsi/gomega/types"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// BeConsistent succeeds when every running voting member of the cluster
// holds the same key space: equal KV hashes (etcd's HashKV) at one revision,
// with equal compact revisions:
//
//	Expect(cluster).To(matchers.BeConsistent())
//
// It is the check to end a spec with after faults (chaos.Run, kills,
// partitions): a member that applied a different history than the others,
// or whose data was damaged on disk, has a different hash. The actual must
// be a *etcdtest.Cluster.
//
// The revision compared is the lowest current revision among the members,
// so every one of them has applied it: a member that lags behind, or is cut
// off by a partition, is compared on the history it has, and passes if that
// is a prefix of the others'. Members that do not run (killed, stopped,
// exited, removed) and learners are left out, and the messages name them. A
// paused member, one that does not answer within QueryTimeout, and a cluster
// with no running voting member are errors, not mismatches (see the package
// doc): Expect fails, and Eventually polls again. So is a member cut off
// while the others compacted past its revision (there is no revision left
// that all of them can hash), until it catches up. A compaction caught
// half-applied across members is asked again within QueryTimeout.
//
// Against an external cluster ($ETCDTEST_ENDPOINTS) the check works the
// same, over every member etcd lists: it hashes the whole key space, not the
// process's prefix, and with auth enabled it needs a user with the root role
// (etcd allows HashKV to no other), else it is an error saying so.
//
// The failure message lists each member compared with its current revision,
// hash, hash revision and compact revision, which members agree with which,
// and the members left out. A stopped cluster cannot be read any more, so
// Eventually gives up at once on it.
func BeConsistent() types.GomegaMatcher { return &beConsistentMatcher{} }

type beConsistentMatcher struct {
	mu   sync.Mutex
	last comparison
}

// memberHash is one voting member's answer.
type memberHash struct {
	member          string
	revision        int64  // the member's own current revision
	hash            uint32 // its KV hash at the compared revision
	hashRevision    int64  // the revision the hash covers, as etcd reports it
	compactRevision int64  // its compact revision; -1 (etcd's) for never compacted
}

// leftOut is a member that is not compared, and why ("killed", "a learner").
type leftOut struct{ member, why string }

// comparison is what one poll found.
type comparison struct {
	what     string // "etcd cluster (node1, node2, node3)"
	revision int64  // the revision compared
	hashes   []memberHash
	skipped  []leftOut
}

func (m *beConsistentMatcher) Match(actual any) (bool, error) {
	c, ok := actual.(*etcdtest.Cluster)
	if !ok || c == nil {
		return false, fmt.Errorf("BeConsistent matcher expects a *etcdtest.Cluster. Got:\n%s", formatActual(actual))
	}
	cmp, err := compareHashes(c)
	if err != nil {
		return false, err
	}
	m.mu.Lock()
	m.last = cmp
	m.mu.Unlock()
	return len(checkConsistent(cmp.hashes)) == 1, nil
}

func (m *beConsistentMatcher) FailureMessage(actual any) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last.message("to be consistent", "differ")
}

func (m *beConsistentMatcher) NegatedFailureMessage(actual any) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last.message("not to be consistent", "are equal")
}

// MatchMayChangeInTheFuture is false for a stopped cluster and for an actual
// of another type.
func (m *beConsistentMatcher) MatchMayChangeInTheFuture(actual any) bool {
	c, ok := actual.(*etcdtest.Cluster)
	return ok && c != nil && !c.Stopped()
}

// compareHashes polls c until its members' hashes can be compared, for at
// most QueryTimeout: the last poll's comparison, or why it could not be made.
func compareHashes(c *etcdtest.Cluster) (comparison, error) {
	var members []*etcdtest.Member
	for _, m := range c.Members() {
		if m.State() != etcdtest.Removed {
			members = append(members, m)
		}
	}
	cmp := comparison{what: clusterName(members)}
	if c.Stopped() {
		return cmp, cannotRead("BeConsistent", "the KV hashes of "+cmp.what, errors.New("the cluster is stopped"))
	}
	var asked []*etcdtest.Member
	for _, m := range c.Members() {
		switch st := m.State(); st {
		case etcdtest.Running, etcdtest.External:
			asked = append(asked, m)
		case etcdtest.Paused:
			return cmp, cannotRead("BeConsistent", "the KV hash of "+m.Name(), errors.New("it is paused: Resume it first (or Kill it to leave it out)"))
		default:
			cmp.skipped = append(cmp.skipped, leftOut{m.Name(), st.String()})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), QueryTimeout)
	defer cancel()
	var last comparison
	var lastErr error
	for polled := false; ; polled = true {
		got, again, err := pollHashes(ctx, cmp, asked)
		if polled && ctx.Err() != nil {
			// Time ran out during this poll: the one before says more.
			return last, lastErr
		}
		last, lastErr = got, err
		if !again {
			return last, lastErr
		}
		select {
		case <-ctx.Done():
			return last, lastErr
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// pollHashes asks each member in asked for its revision, then each voting
// one for its hash at the lowest revision. again says whether asking once
// more may give another answer: the read failed, or a compaction was seen
// half-applied.
func pollHashes(ctx context.Context, base comparison, asked []*etcdtest.Member) (cmp comparison, again bool, err error) {
	cmp = base
	cmp.skipped = append([]leftOut(nil), base.skipped...)
	statuses := make([]*pb.StatusResponse, len(asked))
	if err := each(asked, func(i int, m *etcdtest.Member, conn pb.MaintenanceClient) (err error) {
		statuses[i], err = conn.Status(ctx, &pb.StatusRequest{})
		return readErr(ctx, "the revision of "+m.Name(), err)
	}); err != nil {
		return cmp, true, err
	}
	var voters []*etcdtest.Member
	var revisions []int64
	for i, m := range asked {
		if statuses[i].IsLearner {
			cmp.skipped = append(cmp.skipped, leftOut{m.Name(), "a learner"})
			continue
		}
		voters = append(voters, m)
		revisions = append(revisions, statuses[i].Header.Revision)
	}
	if len(voters) == 0 {
		return cmp, false, cannotRead("BeConsistent", "the KV hashes of "+cmp.what, fmt.Errorf("no running voting member to compare (%s)", describeLeftOut(cmp.skipped)))
	}
	cmp.revision = lowestRevision(revisions)
	cmp.hashes = make([]memberHash, len(voters))
	if err := each(voters, func(i int, m *etcdtest.Member, conn pb.MaintenanceClient) error {
		resp, err := conn.HashKV(ctx, &pb.HashKVRequest{Revision: cmp.revision})
		if rpctypes.Error(err) == rpctypes.ErrCompacted {
			// Compacted past the lowest revision: the member there has not
			// applied the compaction (and what led up to it) yet. Soon it
			// may; behind a partition it cannot.
			laggard := voters[slices.Index(revisions, cmp.revision)].Name()
			err = fmt.Errorf("%w (%s is at revision %d, behind this compaction: heal or restart it so that it catches up)", rpctypes.ErrCompacted, laggard, cmp.revision)
		}
		if err != nil {
			return readErr(ctx, fmt.Sprintf("the KV hash of %s at revision %d", m.Name(), cmp.revision), err)
		}
		cmp.hashes[i] = memberHash{member: m.Name(), revision: revisions[i], hash: resp.Hash, hashRevision: resp.HashRevision, compactRevision: resp.CompactRevision}
		return nil
	}); err != nil {
		return cmp, true, err
	}
	return cmp, !sameCompactRevision(cmp.hashes), nil
}

// each calls ask for every member, in parallel, with a maintenance client on
// the member's own connection (clientv3's Maintenance dials a new one per
// call), and returns the first member's error in order.
func each(members []*etcdtest.Member, ask func(i int, m *etcdtest.Member, conn pb.MaintenanceClient) error) error {
	errs := make([]error, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		cli := m.Client()
		if cli == nil {
			errs[i] = cannotRead("BeConsistent", "the KV hash of "+m.Name(), errors.New("it has no client URL"))
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = ask(i, m, pb.NewMaintenanceClient(cli.ActiveConnection()))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// readErr is the error a failed request of the poll gives, with etcd's own
// error in place of the gRPC status, and a timeout said as one.
func readErr(ctx context.Context, what string, err error) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		err = ctx.Err()
	case rpctypes.Error(err) == rpctypes.ErrPermissionDenied:
		err = fmt.Errorf("%w (HashKV needs a user with the root role)", rpctypes.Error(err))
	default:
		err = rpctypes.Error(err) // etcd's own error for a gRPC status; others as they are
	}
	return cannotRead("BeConsistent", what, err)
}

// lowestRevision is the revision every member has applied: the lowest of
// their current revisions.
func lowestRevision(revisions []int64) int64 {
	low := revisions[0]
	for _, r := range revisions[1:] {
		low = min(low, r)
	}
	return low
}

func sameCompactRevision(hashes []memberHash) bool {
	for _, h := range hashes[1:] {
		if h.compactRevision != hashes[0].compactRevision {
			return false
		}
	}
	return true
}

// checkConsistent groups the members by what they answered — hash, hash
// revision and compact revision — in the order the members come: the
// cluster is consistent when there is one group. Members at different
// current revisions agree as long as their hashes at the compared revision
// do.
func checkConsistent(hashes []memberHash) [][]string {
	type answer struct {
		hash             uint32
		hashRev, compRev int64
	}
	var groups [][]string
	index := map[answer]int{}
	for _, h := range hashes {
		a := answer{h.hash, h.hashRevision, h.compactRevision}
		i, ok := index[a]
		if !ok {
			i = len(groups)
			index[a] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], h.member)
	}
	return groups
}

// message is the failure message: "Expected <cluster> <expected>, but the
// KV hashes ... <verb>:" and a line per member.
func (c comparison) message(expected, verb string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Expected %s %s, but the KV hashes of its voting members at revision %d %s:\n", c.what, expected, c.revision, verb)
	for _, h := range c.hashes {
		fmt.Fprintf(&b, "    %s at revision %d: hash %d (hash revision %d, compact revision %s)\n",
			h.member, h.revision, h.hash, h.hashRevision, compactRevision(h.compactRevision))
	}
	if groups := checkConsistent(c.hashes); len(groups) > 1 {
		parts := make([]string, len(groups))
		for i, g := range groups {
			parts[i] = "{" + strings.Join(g, " ") + "}"
		}
		fmt.Fprintf(&b, "    equal answers: %s\n", strings.Join(parts, " | "))
	}
	if len(c.skipped) > 0 {
		fmt.Fprintf(&b, "    not compared: %s\n", describeLeftOut(c.skipped))
	}
	return b.String()
}

func compactRevision(rev int64) string {
	if rev < 0 {
		return "none"
	}
	return fmt.Sprint(rev)
}

func describeLeftOut(skipped []leftOut) string {
	s := make([]string, len(skipped))
	for i, l := range skipped {
		s[i] = l.member + " (" + l.why + ")"
	}
	return strings.Join(s, ", ")
}
