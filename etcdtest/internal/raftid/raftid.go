// Package raftid computes the IDs etcd derives for the members of a new
// cluster and for the cluster itself, from the advertised peer URLs and the
// cluster token (etcdserver's membership.computeMemberID and
// RaftCluster.genID), so etcdtest's readiness can tell its own cluster's
// members from any other etcd that answers on the same ports. Booting every
// cluster with a token of its own is what makes the IDs unique.
package raftid

import (
	"crypto/sha1"
	"encoding/binary"
	"slices"
)

// Member is the ID etcd gives a member of a new cluster that advertises
// peerURL (its only one) under token.
func Member(peerURL, token string) uint64 {
	h := sha1.Sum([]byte(peerURL + token))
	return binary.BigEndian.Uint64(h[:8])
}

// Cluster is the ID of a new cluster whose members have the given IDs.
func Cluster(members []uint64) uint64 {
	ids := slices.Sorted(slices.Values(members))
	b := make([]byte, 8*len(ids))
	for i, id := range ids {
		binary.BigEndian.PutUint64(b[8*i:], id)
	}
	h := sha1.Sum(b)
	return binary.BigEndian.Uint64(h[:8])
}
