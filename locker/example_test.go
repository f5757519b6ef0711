package locker_test

import (
	"context"
	"fmt"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
)

func Example() {
	ctx := context.Background()
	c, err := etcdtest.Start(ctx, etcdtest.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Stop(ctx)

	selected := make(chan string, 4)
	var nodes []*locker.Node
	for _, id := range []string{"a", "b", "c"} {
		node, err := locker.New(c.Client(), "/example/election", locker.WithID(id))
		if err != nil {
			fmt.Println(err)
			return
		}
		defer node.Close()
		node.OnSelect(func(ctx context.Context, value string) { selected <- node.ID() + " elected with " + value })
		nodes = append(nodes, node)
	}
	for _, node := range nodes {
		if err := node.Write(ctx, "value of "+node.ID()); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println(<-selected) // the first to write is first in line

	nodes[0].Reset(ctx) // a leaves; b is next
	fmt.Println(<-selected)

	leader, _ := nodes[1].Leader() // the fencing token is leader.Revision
	fmt.Printf("leader %s with %q\n", leader.ID, leader.Value)

	nodes[1].Write(ctx, "new value of b") // the leader writes: a new election
	fmt.Println(<-selected)
	// Output:
	// a elected with value of a
	// b elected with value of b
	// leader b with "value of b"
	// c elected with value of c
}
