package etcdtest_test

import (
	"context"
	"fmt"
	"log"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// The seed scenario: boot a cluster, write through member 0, read through
// member 1, stop the cluster.
func ExampleStart() {
	ctx := context.Background()
	cluster, err := etcdtest.Start(ctx, etcdtest.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Stop(ctx)

	if err := cluster.Member(0).Key("/test").Put(ctx, "hello world"); err != nil {
		log.Fatal(err)
	}
	value, _, err := cluster.Member(1).Key("/test").Get(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(cluster.Members()), "members")
	fmt.Println(value)
	// Output:
	// 3 members
	// hello world
}

// A killed member's data survives; Restart brings it back with the same name
// and URLs, and it catches up on what it missed.
func ExampleMember_Kill() {
	ctx := context.Background()
	cluster, err := etcdtest.Start(ctx, etcdtest.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Stop(ctx)

	m := cluster.Member(0)
	if err := m.Kill(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Name(), m.State())

	// Two members are a quorum. A write racing the kill may go to the dying
	// leader, so retry it.
	if err := exampleRetry(ctx, func(ctx context.Context) error {
		return cluster.Member(1).Key("/k").Put(ctx, "written while node1 was down")
	}); err != nil {
		log.Fatal(err)
	}

	if err := m.Restart(ctx); err != nil {
		log.Fatal(err)
	}
	value, _, err := m.Key("/k").Get(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Name(), m.State())
	fmt.Println(value)
	// Output:
	// node1 killed
	// node1 running
	// written while node1 was down
}

// A paused member (SIGSTOP) holds its ports and connections but answers
// nothing until it is resumed.
func ExampleMember_Pause() {
	ctx := context.Background()
	cluster, err := etcdtest.Start(ctx, etcdtest.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Stop(ctx)

	m := cluster.Member(2)
	if err := m.Pause(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Name(), m.State())
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, _, err = m.Key("/k").Get(short)
	cancel()
	fmt.Println("read through the paused member:", err != nil)

	if err := m.Resume(); err != nil {
		log.Fatal(err)
	}
	if err := exampleRetry(ctx, func(ctx context.Context) error {
		_, _, err := m.Key("/k").Get(ctx)
		return err
	}); err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Name(), m.State())
	// Output:
	// node3 paused
	// read through the paused member: true
	// node3 running
}

// When the raft leader dies, the others elect a new one.
func ExampleCluster_Leader() {
	ctx := context.Background()
	cluster, err := etcdtest.Start(ctx, etcdtest.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Stop(ctx)

	old, err := cluster.Leader(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if err := old.Kill(); err != nil {
		log.Fatal(err)
	}
	var next *etcdtest.Member
	if err := exampleRetry(ctx, func(ctx context.Context) error {
		next, err = cluster.Leader(ctx)
		if err == nil && next == old {
			err = fmt.Errorf("%s still reported as leader", old.Name())
		}
		return err
	}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("a new leader:", next != old)
	// Output: a new leader: true
}

// An isolated member is cut off from its peers: it misses writes until Heal,
// then catches up.
func ExampleCluster_Isolate() {
	ctx := context.Background()
	cluster, err := etcdtest.Start(ctx, etcdtest.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Stop(ctx)

	leader, err := cluster.Leader(ctx)
	if err != nil {
		log.Fatal(err)
	}
	i := 0
	if cluster.Member(i) == leader {
		i = 1 // isolate a follower, so the write below needs no new election
	}
	if err := cluster.Isolate(i); err != nil {
		log.Fatal(err)
	}
	if err := leader.Key("/k").Put(ctx, "v"); err != nil {
		log.Fatal(err)
	}
	// A serializable read answers from the member's own copy of the data.
	resp, err := cluster.Member(i).Client().Get(ctx, "/k", clientv3.WithSerializable())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("isolated member has /k:", resp.Count == 1)

	if err := cluster.Heal(); err != nil {
		log.Fatal(err)
	}
	var value string
	if err := exampleRetry(ctx, func(ctx context.Context) (err error) {
		value, _, err = cluster.Member(i).Key("/k").Get(ctx)
		return err
	}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("after Heal:", value)
	// Output:
	// isolated member has /k: false
	// after Heal: v
}

// Reset deletes every key: specs sharing a cluster start from an empty one.
func ExampleCluster_Reset() {
	ctx := context.Background()
	cluster, err := etcdtest.Start(ctx, etcdtest.Config{Size: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Stop(ctx)

	for _, k := range []string{"/a", "/b", "/c/d"} {
		if err := cluster.Key(k).Put(ctx, "v"); err != nil {
			log.Fatal(err)
		}
	}
	if err := cluster.Reset(ctx); err != nil {
		log.Fatal(err)
	}
	resp, err := cluster.Client().Get(ctx, "", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Count, "keys")
	// Output: 0 keys
}

// In a Ginkgo suite, BeforeSuite at the top level of a suite file gives
// every parallel process a cluster of its own:
//
//	var cluster = etcdtest.BeforeSuite(etcdtest.Config{})
func ExampleBeforeSuite() {
	var cluster = etcdtest.BeforeSuite(etcdtest.Config{})

	var _ = It("reads through member 1 what member 0 wrote", func(ctx SpecContext) {
		Expect(cluster.Member(0).Key("/test").Put(ctx, "hello world")).To(Succeed())
		value, _, err := cluster.Member(1).Key("/test").Get(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(value).To(Equal("hello world"))
	})
}

// Launch boots a cluster inside any Ginkgo setup node, here a fresh one per
// spec, and stops it when the spec ends.
func ExampleLaunch() {
	var _ = Describe("a component that needs its own cluster", func() {
		var cluster *etcdtest.Cluster
		BeforeEach(func() {
			cluster = etcdtest.Launch(etcdtest.Config{Size: 1})
		})

		It("starts from an empty cluster", func(ctx SpecContext) {
			resp, err := cluster.Client().Get(ctx, "", clientv3.WithPrefix(), clientv3.WithCountOnly())
			Expect(err).NotTo(HaveOccurred())
			Expect(resp.Count).To(BeZero())
		})
	})
}

// exampleRetry calls f with short attempts until it succeeds or 10 s pass.
func exampleRetry(ctx context.Context, f func(context.Context) error) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		attempt, cancel := context.WithTimeout(ctx, time.Second)
		err := f(attempt)
		cancel()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Replacing a member whose data is lost, as an operator does: remove it from
// the membership, then add a new member, which catches up from the others.
// The removed member keeps its index, in state Removed; the new one takes
// the next index and name.
func ExampleCluster_AddMember() {
	ctx := context.Background()
	cluster, err := etcdtest.Start(ctx, etcdtest.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Stop(ctx)
	if err := cluster.Key("/config").Put(ctx, "v1"); err != nil {
		log.Fatal(err)
	}

	lost := cluster.Member(2)
	if err := cluster.RemoveMember(ctx, lost); err != nil {
		log.Fatal(err)
	}
	m, err := cluster.AddMember(ctx)
	if err != nil {
		log.Fatal(err)
	}
	value, _, err := m.Key("/config").Get(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(lost.Name(), lost.State())
	fmt.Println(m.Name(), m.State(), value)

	// A learner catches up without voting; promoted, it votes.
	l, err := cluster.AddMember(ctx, etcdtest.AsLearner())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(l.Name(), "learner:", l.Learner())
	if err := cluster.PromoteMember(ctx, l); err != nil {
		log.Fatal(err)
	}
	fmt.Println(l.Name(), "learner:", l.Learner())
	// Output:
	// node3 removed
	// node4 running v1
	// node5 learner: true
	// node5 learner: false
}
