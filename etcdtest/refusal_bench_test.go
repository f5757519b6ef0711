package etcdtest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// BenchmarkCallOnAKilledMember measures what a Put through a killed
// member's own client costs: the refusal naming its state, where it
// used to wait out Config.CallTimeout (10s) on "connection refused".
//
//	go test ./etcdtest -run '^$' -bench CallOnAKilledMember -benchtime 2000x
func BenchmarkCallOnAKilledMember(b *testing.B) {
	c := etcdtest.StartT(b, etcdtest.Config{})
	m := c.Member(2)
	if err := m.Kill(); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if err := m.Key("/k").Put(ctx, "v"); !errors.Is(err, etcdtest.ErrNotRunning) {
			b.Fatalf("Put on a killed member: %v; want ErrNotRunning", err)
		}
	}
}
