package etcdtest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

var _ = Describe("A started cluster", func() {
	It("has three members named node1..node3 that serve on loopback", func(ctx SpecContext) {
		Expect(cluster.Members()).To(HaveLen(3))
		for i, m := range cluster.Members() {
			Expect(m.Name()).To(Equal(fmt.Sprintf("node%d", i+1)))
			Expect(m.ClientURL()).To(HavePrefix("http://127.0.0.1:"))
			Expect(m.PeerURL()).To(HavePrefix("http://127.0.0.1:"))
			Expect(cluster.Addr(i)).To(Equal(m.ClientURL()))
			Expect(m.Running()).To(BeTrue())
		}
		Expect(cluster.Endpoints()).To(HaveLen(3))
	})

	It("is the cluster etcd reports: same cluster ID, member IDs and names", func(ctx SpecContext) {
		list, err := cluster.Client().MemberList(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(list.Header.ClusterId).To(Equal(cluster.ID()))
		var names []string
		for _, pm := range list.Members {
			names = append(names, pm.Name)
			Expect(pm.ID).To(Equal(memberNamed(pm.Name).ID()))
		}
		Expect(names).To(ConsistOf("node1", "node2", "node3"))
	})

	It("passes the seed scenario: a value written through member 0 is read through member 1", func(ctx SpecContext) {
		Expect(cluster.Member(0).Key("/test").Put(ctx, "hello world")).To(Succeed())
		v, found, err := cluster.Member(1).Key("/test").Get(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(found).To(BeTrue())
		Expect(v).To(Equal("hello world"))
		Expect(cluster.Member(1).Key("/test").String()).To(Equal("/test via node2"))
	})

	It("numbers its members by their index in Members(), the int the fault methods take", func() {
		for i, m := range cluster.Members() {
			Expect(m.Index()).To(Equal(i))
			Expect(cluster.Member(m.Index())).To(BeIdenticalTo(m))
		}
	})

	It("pins a member's client to that member alone", func() {
		Expect(cluster.Member(2).Client().Endpoints()).To(Equal([]string{cluster.Member(2).ClientURL()}))
		Expect(cluster.Client().Endpoints()).To(Equal(cluster.Endpoints()))
	})

	It("reports the raft leader that etcd reports", func(ctx SpecContext) {
		l, err := cluster.Leader(ctx)
		Expect(err).NotTo(HaveOccurred())
		st, err := cluster.Client().Status(ctx, cluster.Member(0).ClientURL())
		Expect(err).NotTo(HaveOccurred())
		Expect(l.ID()).To(Equal(st.Leader))
	})

	It("deletes every key on Reset", func(ctx SpecContext) {
		for _, k := range []string{"/a", "/b/c", "zzz"} {
			Expect(cluster.Key(k).Put(ctx, "v")).To(Succeed())
		}
		Expect(cluster.Reset(ctx)).To(Succeed())
		resp, err := cluster.Client().Get(ctx, "\x00", clientv3.WithFromKey(), clientv3.WithCountOnly())
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.Count).To(BeZero())
	})

	It("keeps each member's log (that none reaches the test's output is shown by internal/ginkgotest)", func() {
		for _, m := range cluster.Members() {
			Expect(m.Logs()).To(ContainSubstring(`"name":"` + m.Name() + `"`))
		}
	})

	It("keeps its data in a 0700 directory", func() {
		fi, err := os.Stat(cluster.Dir())
		Expect(err).NotTo(HaveOccurred())
		Expect(fi.Mode().Perm()).To(Equal(os.FileMode(0o700)))
	})

	It("names members after Config.Name and sizes itself after Config.Size", func() {
		c := start(etcdtest.Config{Size: 1, Name: "db"})
		Expect(c.Members()).To(HaveLen(1))
		Expect(c.Member(0).Name()).To(Equal("db1"))
	})
})

var _ = Describe("Member faults", func() {
	var c *etcdtest.Cluster
	BeforeEach(func() { c = start(etcdtest.Config{}) })

	It("Kill stops the process with SIGKILL and the rest keeps serving", func(ctx SpecContext) {
		m := c.Member(0)
		pid := m.Pid()
		Expect(m.Kill()).To(Succeed())
		Expect(alive(pid)).To(BeFalse())
		Expect(m.Running()).To(BeFalse())
		Expect(m.State()).To(Equal(etcdtest.Killed))
		Expect(m.Logs()).NotTo(ContainSubstring("received signal")) // no graceful shutdown happened
		// A write racing the kill may be lost with the dead leader (etcd then
		// answers "request timed out" after 5 s), so each attempt is short.
		Eventually(func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			return c.Member(1).Key("/k").Put(ctx, "v")
		}).WithContext(ctx).WithTimeout(shortly).Should(Succeed())
	})

	It("Restart after Kill keeps name, URLs and data", func(ctx SpecContext) {
		m := c.Member(0)
		Expect(m.Key("/before").Put(ctx, "kept")).To(Succeed())
		url, peer, dir := m.ClientURL(), m.PeerURL(), m.DataDir()
		Expect(m.Kill()).To(Succeed())
		Expect(m.Restart(ctx)).To(Succeed())
		Expect(m.Running()).To(BeTrue())
		Expect([]string{m.ClientURL(), m.PeerURL(), m.DataDir()}).To(Equal([]string{url, peer, dir}))
		// A serializable read answers from the member's own store.
		resp, err := m.Client().Get(ctx, "/before", clientv3.WithSerializable())
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.Kvs).To(HaveLen(1))
		Expect(string(resp.Kvs[0].Value)).To(Equal("kept"))
	})

	It("Restart of a whole cluster killed at once recovers every key from disk", func(ctx SpecContext) {
		Expect(c.Key("/k").Put(ctx, "durable")).To(Succeed())
		for _, m := range c.Members() {
			Expect(m.Kill()).To(Succeed())
		}
		done := make(chan error, 3)
		for _, m := range c.Members() {
			go func() { done <- m.Restart(ctx) }()
		}
		for range 3 {
			Expect(<-done).To(Succeed())
		}
		v, _, err := c.Key("/k").Get(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(v).To(Equal("durable"))
	})

	It("Stop is graceful, and Restart brings the member back", func(ctx SpecContext) {
		m := c.Member(1)
		Expect(m.Stop(ctx)).To(Succeed())
		Expect(m.State()).To(Equal(etcdtest.Stopped))
		Expect(m.Logs()).To(ContainSubstring("received signal; shutting down"))
		Expect(m.Restart(ctx)).To(Succeed())
		Expect(m.State()).To(Equal(etcdtest.Running))
	})

	It("Pause freezes the process until Resume", func(ctx SpecContext) {
		m := c.Member(2)
		Expect(m.Pause()).To(Succeed())
		Expect(m.State()).To(Equal(etcdtest.Paused))
		Expect(m.Running()).To(BeTrue())
		qctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		_, err := m.Client().Get(qctx, "/k", clientv3.WithSerializable())
		cancel()
		Expect(err).To(HaveOccurred(), "a paused member answers nothing")
		Expect(m.Resume()).To(Succeed())
		Eventually(func(ctx context.Context) error {
			_, err := m.Client().Get(ctx, "/k")
			return err
		}).WithContext(ctx).WithTimeout(shortly).Should(Succeed())
	})

	It("elects a new raft leader when the leader is killed", func(ctx SpecContext) {
		old, err := c.Leader(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(old.Kill()).To(Succeed())
		Eventually(func(ctx context.Context) (string, error) {
			l, err := c.Leader(ctx)
			if err != nil {
				return "", err
			}
			return l.Name(), nil
		}).WithContext(ctx).WithTimeout(shortly).ShouldNot(Equal(old.Name()))
	})

	It("refuses to run a member whose pid file cannot be written (the sweep of a crashed run needs it), and leaves no process", func(ctx SpecContext) {
		m := c.Member(2)
		Expect(m.Stop(ctx)).To(Succeed())
		pidFile := filepath.Join(c.Dir(), m.Name()+".pid")
		Expect(os.RemoveAll(pidFile)).To(Succeed())
		Expect(os.Mkdir(pidFile, 0o700)).To(Succeed()) // a directory where the file goes
		err := m.Restart(ctx)
		Expect(err).To(MatchError(ContainSubstring("start member node3: write its pid file, which the sweep of a crashed run needs")))
		Expect(m.Running()).To(BeFalse())
		Expect(m.State()).To(Equal(etcdtest.Stopped))

		Expect(os.Remove(pidFile)).To(Succeed())
		Expect(m.Restart(ctx)).To(Succeed())
		Expect(os.ReadFile(pidFile)).To(BeEquivalentTo(strconv.Itoa(m.Pid())))
	})

	It("refuses to pause or resume a member that is not running", func() {
		m := c.Member(0)
		Expect(m.Kill()).To(Succeed())
		Expect(m.Pause()).To(MatchError(ContainSubstring("cannot pause member node1: it is killed")))
		Expect(m.Resume()).To(MatchError(ContainSubstring("cannot resume member node1")))
		Expect(m.Kill()).To(Succeed(), "killing a dead member is a no-op")
	})
})

var _ = Describe("Stop", func() {
	It("kills every member, removes the data and is idempotent", func(ctx SpecContext) {
		c, err := etcdtest.Start(ctx, etcdtest.Config{Binary: binary})
		Expect(err).NotTo(HaveOccurred())
		var pids []int
		for _, m := range c.Members() {
			pids = append(pids, m.Pid())
		}
		Expect(c.Member(1).Pause()).To(Succeed()) // a paused member must die too
		dir := c.Dir()
		Expect(c.Stop(ctx)).To(Succeed())
		for _, pid := range pids {
			Expect(alive(pid)).To(BeFalse(), "pid %d", pid)
		}
		Expect(dir).NotTo(BeADirectory())
		Expect(processesUsing(dir)).To(BeEmpty())
		Expect(c.Stop(ctx)).To(Succeed())
		Expect(c.Stopped()).To(BeTrue())
	})

	It("can run concurrently from several goroutines", func(ctx SpecContext) {
		c, err := etcdtest.Start(ctx, etcdtest.Config{Binary: binary, Size: 1})
		Expect(err).NotTo(HaveOccurred())
		errs := make(chan error, 4)
		for range 4 {
			go func() { errs <- c.Stop(ctx) }()
		}
		for range 4 {
			Expect(<-errs).To(Succeed())
		}
	})
})

func memberNamed(name string) *etcdtest.Member {
	for _, m := range cluster.Members() {
		if m.Name() == name {
			return m
		}
	}
	Fail("no member " + name + " in " + strings.Join(cluster.Endpoints(), ","))
	return nil
}
