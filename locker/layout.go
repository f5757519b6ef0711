package locker

import (
	"strconv"
	"strings"
)

// Layout is where an election keeps its keys in etcd. It is the one place
// that knows the key names: the node writes them, its watch parses them, and
// tools that read the election (matchers, test suites) ask it which keys are
// candidates instead of parsing names themselves.
//
// Under the election's path there are two kinds of keys:
//
//	<path>/<id>           a candidate: one per node in the election, created under
//	                      the node's lease; its value is the node's value and its
//	                      create revision its place in line (the first is the leader)
//	<path>/<id>/resigned  the resign marker: written in the transaction that
//	                      deletes <path>/<id> when its node leaves by itself; its
//	                      value is the deleted key's create revision
//
// IDs never contain "/", so a key is a candidate exactly when what follows
// the prefix has no "/".
type Layout struct {
	path string
}

// NewLayout is the layout of the election on path; trailing slashes are
// ignored, as New ignores them.
func NewLayout(path string) Layout {
	return Layout{path: strings.TrimRight(path, "/")}
}

// Path is the election's path, without a trailing slash.
func (l Layout) Path() string { return l.path }

// Prefix starts every key of the election: read or watch it with
// clientv3.WithPrefix to see the whole election.
func (l Layout) Prefix() string { return l.path + "/" }

// Key is the candidate key of the node with this ID.
func (l Layout) Key(id string) string { return l.Prefix() + id }

// ResignMarker is the key written when the node with this ID resigns.
func (l Layout) ResignMarker(id string) string { return l.Key(id) + "/" + resignedSuffix }

// Candidate returns the ID of the node whose candidate key this is; false
// for a resign marker or a key outside the election.
func (l Layout) Candidate(key string) (id string, ok bool) {
	id, ok = strings.CutPrefix(key, l.Prefix())
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", false
	}
	return id, true
}

// Resigned returns the ID of the node whose resign marker this is; false
// for any other key.
func (l Layout) Resigned(key string) (id string, ok bool) {
	rest, ok := strings.CutPrefix(key, l.Prefix())
	if !ok {
		return "", false
	}
	id, suffix, ok := strings.Cut(rest, "/")
	if !ok || id == "" || suffix != resignedSuffix {
		return "", false
	}
	return id, true
}

const resignedSuffix = "resigned"

// markerValue and markerRevision encode the create revision of the resigned
// key: a node that takes over checks it against the key it saw first, so an
// old marker never vouches for a newer key.
func markerValue(rev int64) string { return strconv.FormatInt(rev, 10) }

func markerRevision(value []byte) int64 {
	rev, _ := strconv.ParseInt(string(value), 10, 64)
	return rev
}
