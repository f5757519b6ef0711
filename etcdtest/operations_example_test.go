package etcdtest_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// Hand raft leadership to a chosen member, as maintenance does; the next
// line can write through any member at its first attempt.
func ExampleCluster_MoveLeader() {
	ctx := context.Background()
	cluster, err := etcdtest.Start(ctx, etcdtest.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Stop(ctx)

	if err := cluster.MoveLeader(ctx, cluster.Member(2)); err != nil {
		log.Fatal(err)
	}
	leader, err := cluster.Leader(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(leader.Name())
	// Output: node3
}

// Prepare a data set once, save it, and boot clusters from it.
func ExampleMember_Snapshot() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "snapshots-*")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "prepared.db")

	prep, err := etcdtest.Start(ctx, etcdtest.Config{Size: 1})
	if err != nil {
		log.Fatal(err)
	}
	if err := prep.Key("/config").Put(ctx, "prepared"); err != nil {
		log.Fatal(err)
	}
	if err := prep.Member(0).Snapshot(ctx, file); err != nil {
		log.Fatal(err)
	}
	prep.Stop(ctx)

	cluster, err := etcdtest.Start(ctx, etcdtest.Config{Snapshot: file})
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Stop(ctx)
	value, _, err := cluster.Member(2).Key("/config").Get(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(value)
	// Output: prepared
}
