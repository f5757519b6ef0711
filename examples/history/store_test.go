package history_test

// The code under test: a config store with counters, written over etcd the
// way an application would. It knows nothing of chaos — the spec hands it
// a recorded client in place of its own, and that is all the recording it
// needs. It can be built with one of two bugs, each a real one in code that
// uses etcd, neither of which a spec that checks one value at one moment
// would notice:
//
//   - StaleReads: Get asks with clientv3.WithSerializable(). The member the
//     client talks to answers from its own state without asking the raft
//     leader: fast, and stale whenever that member is cut off from the
//     others while they go on writing.
//   - LostUpdates: Increment reads the counter and writes back one more,
//     without a compare-and-swap. Two processes that read the same value
//     both write value+1, and one increment is gone — while every Get and
//     Put etcd served was correct, so only a model of the store's own
//     operations sees it.

import (
	"context"
	"fmt"
	"strconv"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Bug is a mistake a Store can be built with.
type Bug string

const (
	NoBug       Bug = "correct"
	StaleReads  Bug = "stale-reads"  // Get reads serializably
	LostUpdates Bug = "lost-updates" // Increment is a Get, then a Put
)

// maxAttempts bounds Increment's compare-and-swap loop: a counter this
// contended is a bug of its own, reported rather than retried forever.
const maxAttempts = 20

// Store keeps config values and counters under one key prefix.
type Store struct {
	cli    *clientv3.Client
	prefix string
	bug    Bug
}

// NewStore is a store of the keys under prefix, read and written through
// cli.
func NewStore(cli *clientv3.Client, prefix string, bug Bug) *Store {
	return &Store{cli: cli, prefix: prefix, bug: bug}
}

// Set stores value under key.
func (s *Store) Set(ctx context.Context, key, value string) error {
	if _, err := s.cli.Put(ctx, s.prefix+key, value); err != nil {
		return fmt.Errorf("store: set %s: %w", key, err)
	}
	return nil
}

// Get returns the value of key, "" if it has none.
func (s *Store) Get(ctx context.Context, key string) (string, error) {
	kv, err := s.get(ctx, key)
	if err != nil || kv == nil {
		return "", err
	}
	return string(kv.Value), nil
}

// Count returns the counter key, 0 if it was never incremented.
func (s *Store) Count(ctx context.Context, key string) (int64, error) {
	kv, err := s.get(ctx, key)
	if err != nil {
		return 0, err
	}
	return counterOf(kv)
}

// Increment adds one to the counter key and returns its new value.
//
// It is a compare-and-swap on the key's ModRevision: the Put applies only
// if no one wrote the key since it was read, else the transaction's Else
// branch reads the key again and the loop retries with that. An error
// from the transaction itself is returned, not retried: the Put may have
// been applied (a timeout says nothing about that), and retrying it would
// count twice.
func (s *Store) Increment(ctx context.Context, key string) (int64, error) {
	kv, err := s.get(ctx, key)
	if err != nil {
		return 0, err
	}
	if s.bug == LostUpdates {
		return s.blindIncrement(ctx, key, kv)
	}
	for range maxAttempts {
		n, err := counterOf(kv)
		if err != nil {
			return 0, err
		}
		var mod int64 // 0: the key does not exist yet
		if kv != nil {
			mod = kv.ModRevision
		}
		k := s.prefix + key
		resp, err := s.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(k), "=", mod)).
			Then(clientv3.OpPut(k, strconv.FormatInt(n+1, 10))).
			Else(clientv3.OpGet(k)).
			Commit()
		if err != nil {
			return 0, fmt.Errorf("store: increment %s: %w", key, err)
		}
		if resp.Succeeded {
			return n + 1, nil
		}
		kv = nil
		if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) > 0 {
			kv = kvs[0]
		}
	}
	return 0, fmt.Errorf("store: increment %s: still contended after %d attempts", key, maxAttempts)
}

// blindIncrement is the LostUpdates bug: it writes back what it read plus
// one, whatever was written in between.
func (s *Store) blindIncrement(ctx context.Context, key string, kv *mvccpb.KeyValue) (int64, error) {
	n, err := counterOf(kv)
	if err != nil {
		return 0, err
	}
	if err := s.Set(ctx, key, strconv.FormatInt(n+1, 10)); err != nil {
		return 0, err
	}
	return n + 1, nil
}

// get reads key: linearizably (etcd's default: the member confirms with
// the raft leader that it is up to date), or serializably with the
// StaleReads bug.
func (s *Store) get(ctx context.Context, key string) (*mvccpb.KeyValue, error) {
	var opts []clientv3.OpOption
	if s.bug == StaleReads {
		opts = append(opts, clientv3.WithSerializable())
	}
	resp, err := s.cli.Get(ctx, s.prefix+key, opts...)
	if err != nil {
		return nil, fmt.Errorf("store: get %s: %w", key, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, nil
	}
	return resp.Kvs[0], nil
}

func counterOf(kv *mvccpb.KeyValue) (int64, error) {
	if kv == nil {
		return 0, nil
	}
	n, err := strconv.ParseInt(string(kv.Value), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("store: counter %s holds %q, not a number", kv.Key, kv.Value)
	}
	return n, nil
}
