// Package plain_test uses etcdtest in a plain `go test`, without Ginkgo:
// StartT boots a cluster and stops it when the test ends.
package plain_test

import (
	"context"
	"fmt"
	"log"
	"testing"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

func TestSeedScenario(t *testing.T) {
	cluster := etcdtest.StartT(t, etcdtest.Config{}) // 3 members; stopped by t.Cleanup
	ctx := t.Context()

	if err := cluster.Member(0).Key("/test").Put(ctx, "hello world"); err != nil {
		t.Fatal(err)
	}
	value, found, err := cluster.Member(1).Key("/test").Get(ctx)
	if err != nil || !found || value != "hello world" {
		t.Fatalf("read /test through member 1: got %q (found %v, error %v), want %q", value, found, err, "hello world")
	}
}

func TestSurvivesAKilledMember(t *testing.T) {
	cluster := etcdtest.StartT(t, etcdtest.Config{})
	ctx := t.Context()

	if err := cluster.Member(0).Kill(); err != nil {
		t.Fatal(err)
	}
	// Kill returns once the others agree on a raft leader, so a write
	// through one of them succeeds at its first attempt.
	if err := cluster.Member(1).Key("/k").Put(ctx, "v"); err != nil {
		t.Fatalf("write with member 0 down: %v", err)
	}

	if err := cluster.Member(0).Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if value, _, err := cluster.Member(0).Key("/k").Get(ctx); err != nil || value != "v" {
		t.Fatalf("restarted member 0 reads /k = %q (error %v), want %q", value, err, "v")
	}
}

// Outside tests, Start boots a cluster and the caller stops it.
func Example() {
	ctx := context.Background()
	cluster, err := etcdtest.Start(ctx, etcdtest.Config{Size: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Stop(ctx)

	if _, err := cluster.Client().Put(ctx, "/greeting", "hello"); err != nil {
		log.Fatal(err)
	}
	resp, err := cluster.Client().Get(ctx, "/greeting")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s = %s\n", resp.Kvs[0].Key, resp.Kvs[0].Value)
	// Output: /greeting = hello
}
