package locker

import (
	"fmt"
	"time"
)

// Option configures a Node; pass options to New.
type Option func(*config) error

type config struct {
	id  string
	ttl time.Duration
}

// DefaultTTL is the lease TTL of a node created without WithTTL.
const DefaultTTL = 10 * time.Second

// WithID names the node. IDs must be non-empty and must not contain "/".
// Without it a node gets a random ID. Two live nodes with one ID on one path
// are an error: New and Write return ErrDuplicateID.
func WithID(id string) Option {
	return func(c *config) error {
		if err := validID(id); err != nil {
			return err
		}
		c.id = id
		return nil
	}
}

// WithTTL sets the TTL of the node's etcd lease: how long a crashed node
// holds the election before others take over. It must be whole seconds and at
// least one second, because etcd leases count in seconds. The server may grant
// more than asked (its minimum TTL depends on its election timeout); the node
// uses what is granted.
func WithTTL(ttl time.Duration) Option {
	return func(c *config) error {
		if ttl < time.Second || ttl%time.Second != 0 {
			return fmt.Errorf("locker: TTL %v: want whole seconds, at least 1s", ttl)
		}
		c.ttl = ttl
		return nil
	}
}

func validID(id string) error {
	if id == "" {
		return fmt.Errorf("locker: empty node ID")
	}
	for _, r := range id {
		if r == '/' {
			return fmt.Errorf("locker: node ID %q contains '/'", id)
		}
	}
	return nil
}
