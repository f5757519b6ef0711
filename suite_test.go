package etcdtestcluster_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
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
	DeferCleanup(repair, NodeTimeout(etcdtest.StopTimeout))
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
		DeferCleanup(c.Stop, NodeTimeout(etcdtest.StopTimeout))
		Expect(c.Member(0).Key("/test").Put(ctx, "hello world")).To(Succeed())
		Expect(get(ctx, c.Member(1).Key("/test"))).To(Equal("hello world"))
		var pids []int
		for _, m := range c.Members() {
			Expect(alive(m.Pid())).To(BeTrue())
			pids = append(pids, m.Pid())
		}

		Expect(c.Stop(ctx)).To(Succeed())
		for _, pid := range pids {
			Expect(alive(pid)).To(BeFalse(), "member pid %d survived Stop", pid)
		}
		Expect(c.Dir()).NotTo(BeAnExistingFile())
		Expect(c.Stop(ctx)).To(Succeed(), "Stop is idempotent")
	}, SpecTimeout(time.Minute))
})

var _ = Describe("Reset between specs", func() {
	It("deletes every key", func(ctx SpecContext) {
		for _, k := range []string{"/a", "/a/b", "zzz"} {
			Expect(cluster.Key(k).Put(ctx, "v")).To(Succeed())
		}
		Expect(cluster.Reset(ctx)).To(Succeed())
		Expect(keyCount(ctx)).To(BeZero())
	}, SpecTimeout(time.Minute))

	It("starts every spec with an empty keyspace, whatever earlier specs wrote", func(ctx SpecContext) {
		Expect(keyCount(ctx)).To(BeZero())
		Expect(cluster.Key("/left-behind").Put(ctx, "by this spec")).To(Succeed())
	}, SpecTimeout(time.Minute))
})

var _ = Describe("Kill and Restart", func() {
	It("keeps serving with a member killed, and the restarted member catches up", func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster)
		m := cluster.Member(2)
		pid := m.Pid()
		Expect(m.Kill()).To(Succeed())
		Expect(alive(pid)).To(BeFalse(), "Kill returns once the process is gone")
		Expect(m.State()).To(Equal(etcdtest.Killed))
		Expect(m.Running()).To(BeFalse())

		Eventually(put).WithContext(ctx).WithArguments(cluster.Member(0).Key("/while-down"), "written").Should(Succeed())
		Expect(quickGet(ctx, m.Key("/while-down"))).Error().To(HaveOccurred(), "a killed member answers nothing")

		Expect(m.Restart(ctx)).To(Succeed())
		Expect(m.State()).To(Equal(etcdtest.Running))
		Expect(m.Pid()).NotTo(Equal(pid))
		Expect(get(ctx, m.Key("/while-down"))).To(Equal("written"), "the restarted member serves what was written while it was down")
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
		// SIGSTOP is delivered asynchronously: Pause returns before the kernel has stopped the process.
		Eventually(procState).WithArguments(m.Pid()).Should(Equal("T"), "the kernel says the process is stopped")

		Expect(put(ctx, leader.Key("/while-paused"), "written")).To(Succeed(), "the other two are a quorum")
		Expect(quickGet(ctx, m.Key("/while-paused"))).Error().To(MatchError(context.DeadlineExceeded))

		Expect(m.Resume()).To(Succeed())
		Expect(m.State()).To(Equal(etcdtest.Running))
		Eventually(m.Key("/while-paused")).Should(matchers.HaveValue("written"))
	}, SpecTimeout(time.Minute))
})

var _ = Describe("Leader change", func() {
	It("elects a new raft leader when the leader is killed, and the old one rejoins", func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster)
		old := mustLeader(ctx)
		Expect(old.Kill()).To(Succeed())

		Eventually(cluster).WithTimeout(10*time.Second).Should(matchers.HaveRaftLeader(Not(Equal(old.Name()))), "a new leader is elected")
		next := mustLeader(ctx)
		Eventually(put).WithContext(ctx).WithArguments(next.Key("/after-failover"), "written").Should(Succeed())

		Expect(old.Restart(ctx)).To(Succeed())
		Expect(get(ctx, old.Key("/after-failover"))).To(Equal("written"))
	}, SpecTimeout(time.Minute))
})

var _ = Describe("Isolate and Heal", func() {
	It("cuts a follower off from its peers until healed: it misses writes, then catches up", func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster)
		leader := mustLeader(ctx)
		i := followerOf(leader)
		m := cluster.Member(i)
		Expect(cluster.Isolate(i)).To(Succeed())

		Expect(put(ctx, leader.Key("/during"), "isolated")).To(Succeed(), "the other two are a quorum")
		Consistently(localGet).WithContext(ctx).WithArguments(m, "/during").WithTimeout(300*time.Millisecond).
			Should(BeEmpty(), "the isolated member's own copy never gets the write")
		Expect(quickGet(ctx, m.Key("/during"))).Error().To(HaveOccurred(), "a linearizable read needs the leader")

		Expect(cluster.Heal()).To(Succeed())
		Eventually(m.Key("/during")).Should(matchers.HaveValue("isolated"))
	}, SpecTimeout(time.Minute))

	It("makes the others elect a new leader when the leader is isolated; healed, it follows", func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster)
		old := mustLeader(ctx)
		Expect(cluster.Isolate(indexOf(old))).To(Succeed())

		Eventually(cluster).WithTimeout(10*time.Second).Should(matchers.HaveRaftLeader(Not(Equal(old.Name()))), "the majority elects a new leader")
		next := mustLeader(ctx)
		Eventually(put).WithContext(ctx).WithArguments(next.Key("/new-term"), "written").Should(Succeed())

		Expect(cluster.Heal()).To(Succeed())
		// The old leader follows whoever leads now: not necessarily next, as
		// without pre-vote (etcd 3.4's default) its higher term can force
		// one more election once it is back.
		Eventually(func(ctx context.Context) (bool, error) {
			l, err := cluster.Leader(ctx)
			if err != nil {
				return false, err
			}
			seen, err := leaderSeenBy(ctx, old)
			return seen == l.ID(), err
		}).WithContext(ctx).WithTimeout(10*time.Second).Should(BeTrue(), "the old leader follows the cluster's leader")
		Eventually(old.Key("/new-term")).Should(matchers.HaveValue("written"))
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

// localGet reads name from m's own copy of the data (a serializable read),
// "" when it does not exist there.
func localGet(ctx context.Context, m *etcdtest.Member, name string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	resp, err := m.Client().Get(ctx, name, clientv3.WithSerializable())
	if err != nil || len(resp.Kvs) == 0 {
		return "", err
	}
	return string(resp.Kvs[0].Value), nil
}

// leaderSeenBy returns the ID of the raft leader m reports.
func leaderSeenBy(ctx context.Context, m *etcdtest.Member) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	st, err := m.Client().Status(ctx, m.ClientURL())
	if err != nil {
		return 0, err
	}
	return st.Leader, nil
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

func indexOf(m *etcdtest.Member) int {
	for i, o := range cluster.Members() {
		if o == m {
			return i
		}
	}
	panic("not a member of the suite's cluster: " + m.Name())
}

// followerOf returns the index of a member that is not leader.
func followerOf(leader *etcdtest.Member) int {
	return (indexOf(leader) + 1) % len(cluster.Members())
}

// repair heals the network, resumes paused members and restarts stopped ones.
func repair(ctx SpecContext) error {
	if cluster.External() {
		return nil
	}
	errs := []error{cluster.Heal()}
	for _, m := range cluster.Members() {
		switch {
		case m.Paused():
			errs = append(errs, m.Resume())
		case !m.Running():
			errs = append(errs, m.Restart(ctx))
		}
	}
	return errors.Join(errs...)
}

// alive reports whether pid is a live process (not a zombie).
func alive(pid int) bool {
	s := procState(pid)
	return s != "" && s != "Z" && s != "X"
}

// procState returns the state letter /proc reports for pid ("R", "S", "T",
// "Z", ...), or "" when there is no such process.
func procState(pid int) string {
	if pid <= 0 {
		return ""
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The state follows the command name, which is in parentheses and may contain spaces.
	for i := len(b) - 1; i > 0; i-- {
		if b[i] == ')' && i+2 < len(b) {
			return string(b[i+2])
		}
	}
	return ""
}
