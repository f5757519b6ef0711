package etcdtestcluster_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/internal/procfs"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

func TestEtcdTestCluster(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "etcd-test-cluster end to end")
}

// cluster is the suite's cluster: 3 members, one cluster per parallel process.
var cluster = etcdtest.BeforeSuite(etcdtest.Config{})

// Every spec and setup node has a timeout, so a hang fails with a progress
// report instead of stalling the run.
//
// Every spec starts from a whole, empty cluster, and whatever a spec breaks
// is repaired after it, also when it fails halfway (specs repair what they
// break themselves too; this is the safety net).
var _ = BeforeEach(func(ctx SpecContext) {
	if !cluster.External() {
		Eventually(cluster).WithContext(ctx).WithTimeout(10 * time.Second).Should(matchers.BeHealthy())
	}
	Expect(cluster.Reset(ctx)).To(Succeed())
	DeferCleanup(repair, NodeTimeout(20*time.Second))
}, NodeTimeout(time.Minute))

var _ = Describe("The seed scenario", func() {
	It("reads through member 1 the value written through member 0", func(ctx SpecContext) {
		Expect(cluster.Member(0).Key("/test").Put(ctx, "hello world")).To(Succeed())
		Expect(cluster.Member(1).Key("/test")).To(matchers.HaveValue("hello world"))
	}, SpecTimeout(time.Minute))

	It("stops a cluster without leaving a process or its data behind", func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster)
		c, err := etcdtest.Start(ctx, etcdtest.Config{Binary: cluster.Binary()})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(c.Stop, NodeTimeout(20*time.Second))
		Expect(c.Member(0).Key("/test").Put(ctx, "hello world")).To(Succeed())
		Expect(get(ctx, c.Member(1).Key("/test"))).To(Equal("hello world"))
		var pids []int
		for _, m := range c.Members() {
			Expect(procfs.Alive(m.Pid())).To(BeTrue())
			pids = append(pids, m.Pid())
		}

		Expect(c.Stop(ctx)).To(Succeed())
		for _, pid := range pids {
			Expect(procfs.Alive(pid)).To(BeFalse(), "member pid %d survived Stop", pid)
		}
		Expect(c.Dir()).NotTo(BeAnExistingFile())
		Expect(c.Stop(ctx)).To(Succeed(), "Stop is idempotent")
	}, SpecTimeout(time.Minute))
})

var _ = Describe("Reset between specs", func() {
	It("starts every spec with an empty keyspace, whatever earlier specs wrote", func(ctx SpecContext) {
		Expect(keyCount(ctx)).To(BeZero())
		Expect(cluster.Key("/left-behind").Put(ctx, "by this spec")).To(Succeed())
	}, SpecTimeout(time.Minute))
})

var _ = Describe("Pause and Resume", func() {
	It("freezes a member with SIGSTOP: it answers nothing until resumed", func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster)
		leader := mustLeader(ctx)
		m := cluster.Member(followerOf(leader))
		Expect(m.Pause()).To(Succeed())
		Expect(m.State()).To(Equal(etcdtest.Paused))
		Expect(m.Running()).To(BeTrue(), "a paused member is alive")
		// Pause is a real SIGSTOP: the kernel itself says the process is stopped.
		Eventually(procfs.State).WithArguments(m.Pid()).Should(Equal("T"), "the kernel says the process is stopped")

		Expect(put(ctx, leader.Key("/while-paused"), "written")).To(Succeed(), "the other two are a quorum")
		Expect(quickGet(ctx, m.Key("/while-paused"))).Error().To(MatchError(context.DeadlineExceeded))

		Expect(m.Resume()).To(Succeed())
		Expect(m.State()).To(Equal(etcdtest.Running))
		Eventually(m.Key("/while-paused")).Should(matchers.HaveValue("written"))
	}, SpecTimeout(time.Minute))
})

// get reads key with a linearizable read; a missing key is an error.
func get(ctx context.Context, key etcdtest.Key) (string, error) {
	v, found, err := key.Get(ctx)
	if err == nil && !found {
		err = fmt.Errorf("%s does not exist", key)
	}
	return v, err
}

// quickGet is get bounded by a short timeout, for polling and for reads
// expected to hang.
func quickGet(ctx context.Context, key etcdtest.Key) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	return get(ctx, key)
}

// put writes with a short timeout: a write racing a fault may be lost with a
// dead leader, and etcd would take seconds to say so; a poll retries it.
func put(ctx context.Context, key etcdtest.Key, value string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return key.Put(ctx, value)
}

func keyCount(ctx context.Context) (int64, error) {
	resp, err := cluster.Client().Get(ctx, "\x00", clientv3.WithFromKey(), clientv3.WithCountOnly())
	if err != nil {
		return 0, err
	}
	return resp.Count, nil
}

func mustLeader(ctx context.Context) *etcdtest.Member {
	GinkgoHelper()
	l, err := cluster.Leader(ctx)
	Expect(err).NotTo(HaveOccurred())
	return l
}

// followerOf returns the index of a member that is not leader.
func followerOf(leader *etcdtest.Member) int {
	return (leader.Index() + 1) % len(cluster.Members())
}

// repair heals the network, resumes paused members and restarts stopped ones.
func repair(ctx SpecContext) error {
	if cluster.External() {
		return nil
	}
	errs := []error{cluster.Heal()}
	for _, m := range cluster.Members() {
		switch {
		case m.State() == etcdtest.Paused:
			errs = append(errs, m.Resume())
		case !m.Running():
			errs = append(errs, m.Restart(ctx))
		}
	}
	return errors.Join(errs...)
}
