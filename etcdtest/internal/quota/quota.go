// Package quota drives an etcd cluster into NOSPACE and asks whether it
// would accept a write, the two halves of etcdtest's ExhaustSpace. Both go
// through a client of the caller's and one key of its own; neither leaves
// anything in the keyspace but that key's revisions.
package quota

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ErrStillAccepts says Fill wrote its bound and etcd still accepted writes.
var ErrStillAccepts = errors.New("etcd still accepts writes")

// Chunk is the size of Fill's values for a quota of q bytes: q/16, from
// 4 KiB to 512 KiB.
func Chunk(q int64) int64 { return min(max(q/16, 4<<10), 512<<10) }

// Fill overwrites key with values of Chunk(q) bytes until etcd refuses a
// write with ErrNoSpace, then deletes key (deletes are allowed under the
// alarm). Writes are bounded: 4 × the quota's worth, and a few hundred more
// for the backend's commit interval (its size lags writes by 100 ms). A
// request etcd finds too large (--max-request-bytes below the chunk)
// halves the value. It returns how many bytes were written.
func Fill(ctx context.Context, cli *clientv3.Client, key string, q int64) (int64, error) {
	chunk := Chunk(q)
	value := strings.Repeat("x", int(chunk))
	limit := 4*q/chunk + 256
	var written int64
	for n := int64(0); ; n++ {
		if n == limit {
			return written, fmt.Errorf("%d writes: %w", n, ErrStillAccepts)
		}
		_, err := cli.Put(ctx, key, value)
		switch {
		case err == nil:
			written += int64(len(value))
			continue
		case errors.Is(err, rpctypes.ErrRequestTooLarge) && len(value) > 1<<10:
			value = value[:len(value)/2]
			continue
		case !errors.Is(err, rpctypes.ErrNoSpace):
			return written, fmt.Errorf("write %d: %w", n+1, err)
		}
		if _, err := cli.Delete(ctx, key); err != nil {
			return written, fmt.Errorf("delete its own key %s after etcd ran out of space: %w", key, err)
		}
		return written, nil
	}
}

// Probe sends cli a write that changes nothing: a transaction whose
// condition never holds (no key has create revision -1) with a Put of key
// in its branch. etcd charges it against the quota and refuses it under
// the NOSPACE alarm like any Put, so it answers "would a write be
// accepted" without touching the keyspace or the revision.
func Probe(ctx context.Context, cli *clientv3.Client, key string) error {
	_, err := cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", -1)).
		Then(clientv3.OpPut(key, "probe")).
		Commit()
	return err
}
