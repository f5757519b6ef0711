package etcdtest_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// Crash a member at the point between saving a write to its WAL and
// answering it: the client gets an error, yet the write happened. The
// unknown outcome your code must handle.
func ExampleMember_Failpoint() {
	ctx := context.Background()
	cluster, err := etcdtest.Start(ctx, etcdtest.Config{Size: 1, Failpoints: true})
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Stop(ctx)
	m := cluster.Member(0)

	if err := m.Failpoint(ctx, "raftAfterSave", "panic"); err != nil {
		log.Fatal(err)
	}
	put, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err = m.Client().Put(put, "/order", "paid")
	fmt.Println("the write failed:", err != nil)

	if err := m.WaitCrash(ctx); err != nil { // the panic fired: the process is gone
		log.Fatal(err)
	}
	fmt.Println("member:", m.State())
	if err := m.Restart(ctx); err != nil {
		log.Fatal(err)
	}
	v, found, err := m.Key("/order").Get(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("after Restart:", v, found)
	// Output:
	// the write failed: true
	// member: exited
	// after Restart: paid true
}
