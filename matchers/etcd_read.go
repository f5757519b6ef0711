package matchers

// Reading etcd. The matchers that decide on what etcd holds (HaveValue and
// BeMissing on a key, HaveRaftLeader) treat a read that fails as Gomega
// treats an actual it cannot read: an error from Match, not a mismatch. A
// mismatch would let the negated form pass on silence —
// Consistently(key).ShouldNot(HaveValue("old")) holding for as long as the
// member is frozen — and a spec would assert something nobody observed.
// An error fails Expect and Consistently in both forms and makes Eventually
// poll again (or give up at once where MatchMayChangeInTheFuture says no
// read can ever succeed: a stopped cluster, a closed client).

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// readError is what Match returns when it cannot read: which matcher, what
// it read through which client or member, and the underlying error.
type readError struct {
	matcher string // "HaveValue"
	what    string // "/test via node2"
	err     error
}

func cannotRead(matcher, what string, err error) *readError {
	return &readError{matcher: matcher, what: what, err: err}
}

func (e *readError) Error() string {
	return fmt.Sprintf("matchers.%s: cannot read %s: %s", e.matcher, e.what, explain(e.err))
}

func (e *readError) Unwrap() error { return e.err }

// FormattedGomegaError is the text Eventually and Consistently show for the
// error. Without it they print the error's Go value too, which for a gRPC
// error is a screenful of internals.
func (e *readError) FormattedGomegaError() string { return e.Error() }

// explain says what a timeout means here: the member did not answer within
// the matcher's own bound, not the spec's.
func explain(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("%v (no answer within QueryTimeout, %v)", err, QueryTimeout)
	}
	return err.Error()
}

// keyRead is the result of reading a key once.
type keyRead struct {
	key   string // the key and where it is read: "/test via node2"
	value string
	found bool
	err   error // why it could not be read
}

func asKey(actual any) (etcdtest.Key, bool) {
	switch k := actual.(type) {
	case etcdtest.Key:
		return k, true
	case *etcdtest.Key:
		if k != nil {
			return *k, true
		}
	}
	return etcdtest.Key{}, false
}

// readKey reads k with a linearizable read through its own client, bounded
// by QueryTimeout. It calls the client rather than Key.Get so that the error
// is etcd's own, not wrapped in a second naming of the key.
func readKey(k etcdtest.Key) keyRead {
	r := keyRead{key: k.String()}
	cli := k.Client()
	switch {
	case cli == nil:
		r.err = errors.New("the key has no client: use one from Cluster.Key or Member.Key")
		return r
	case cli.Ctx().Err() != nil:
		r.err = errors.New("its client is closed (the cluster was stopped)")
		return r
	}
	ctx, cancel := context.WithTimeout(cli.Ctx(), QueryTimeout)
	defer cancel()
	resp, err := cli.Get(ctx, k.Name())
	if err != nil {
		r.err = err
		return r
	}
	if len(resp.Kvs) > 0 {
		r.value, r.found = string(resp.Kvs[0].Value), true
	}
	return r
}

// keyMayChange is false once no read of k can succeed: it has no client, or
// its client is closed.
func keyMayChange(k etcdtest.Key) bool {
	return k.Client() != nil && k.Client().Ctx().Err() == nil
}

// clusterName names a cluster by its members: "etcd cluster (node1, node2, node3)".
func clusterName(members []*etcdtest.Member) string {
	names := make([]string, len(members))
	for i, m := range members {
		names[i] = m.Name()
	}
	return fmt.Sprintf("etcd cluster (%s)", strings.Join(names, ", "))
}
