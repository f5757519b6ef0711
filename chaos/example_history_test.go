package chaos_test

import (
	"context"
	"fmt"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/chaos"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// Record what code does through a client, then check it.
func ExampleHistory_Client() {
	ctx := context.Background()
	cluster, err := etcdtest.Start(ctx, etcdtest.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cluster.Stop(ctx)

	h := chaos.NewHistory()
	cli := h.Client(cluster.Client()) // the code under test gets cli
	if _, err := cli.Put(ctx, "/config", "v1"); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := cli.Get(ctx, "/config"); err != nil {
		fmt.Println(err)
		return
	}
	h.Stop()

	for _, op := range h.Operations() {
		fmt.Println(op.Request, op.Outcome)
	}
	fmt.Println("linearizable:", h.CheckLinearizable().OK())
	// Output:
	// put /config="v1" succeeded
	// get /config succeeded
	// linearizable: true
}

// A history written by hand: client 1 reads v1 after client 0's write of
// v2 returned — a stale read.
func ExampleHistory_CheckLinearizable() {
	h := chaos.NewHistory()
	kv := func(value string, rev int64) chaos.KV {
		return chaos.KV{Key: "/k", Value: value, CreateRevision: 2, ModRevision: rev, Version: rev - 1}
	}
	put := func(client int, at time.Duration, value string, rev int64) chaos.Operation {
		return chaos.Operation{Client: client, Call: at, Return: at + time.Millisecond, Outcome: chaos.Succeeded,
			Request:  chaos.Request{Then: []chaos.Op{{Type: chaos.OpPut, Key: "/k", Value: value}}},
			Response: &chaos.Response{Revision: rev, Succeeded: true, Results: []chaos.Result{{}}}}
	}
	h.Append(
		put(0, 0, "v1", 2),
		put(0, 2*time.Millisecond, "v2", 3),
		chaos.Operation{Client: 1, Call: 4 * time.Millisecond, Return: 5 * time.Millisecond, Outcome: chaos.Succeeded,
			Request:  chaos.Request{Then: []chaos.Op{{Type: chaos.OpGet, Key: "/k"}}},
			Response: &chaos.Response{Revision: 2, Succeeded: true, Results: []chaos.Result{{KVs: []chaos.KV{kv("v1", 2)}, Count: 1}}}},
	)
	h.Stop()
	l := h.CheckLinearizable()
	fmt.Println("linearizable:", l.OK())
	fmt.Println("keys:", l.Violations[0].Keys)
	// Output:
	// linearizable: false
	// keys: [/k]
}

// The code's own operations, against a built-in model: two increments that
// both returned, then a read that sees one of them — a lost update.
func ExampleHistory_API() {
	h := chaos.NewHistory()
	hits := h.API("hits", chaos.Counter())
	hits.Call(0, chaos.Add{N: 1}).Return(nil)
	hits.Call(1, chaos.Add{N: 1}).Return(nil)
	hits.Call(2, chaos.ReadCounter{}).Return(int64(1))
	h.Stop()
	l := h.CheckLinearizable()
	fmt.Println("linearizable:", l.OK(), "API:", l.Violations[0].API)
	// Output:
	// linearizable: false API: hits
}
