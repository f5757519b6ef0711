package etcdtest_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// smallQuota fills in about 0.15 s.
const smallQuota = 1 << 20

// alarms lists the alarms c has raised, as "NOSPACE" each.
func alarms(c *etcdtest.Cluster) func(context.Context) ([]string, error) {
	return func(ctx context.Context) ([]string, error) {
		resp, err := c.Client().AlarmList(ctx)
		if err != nil {
			return nil, err
		}
		names := []string{}
		for _, a := range resp.Alarms {
			names = append(names, a.Alarm.String())
		}
		return names, nil
	}
}

// dbSize is member i's backend size as it reports it.
func dbSize(ctx context.Context, c *etcdtest.Cluster, i int) int64 {
	GinkgoHelper()
	st, err := c.Member(i).Status(ctx)
	Expect(err).NotTo(HaveOccurred())
	return st.DbSize
}

// valueOf reads key through c; "" for a key that does not exist.
func valueOf(ctx context.Context, c *etcdtest.Cluster, key string) string {
	GinkgoHelper()
	v, _, err := c.Key(key).Get(ctx)
	Expect(err).NotTo(HaveOccurred())
	return v
}

// expectOutOfSpace asserts that c is in NOSPACE: the alarm is listed, a
// write through every running member is refused with etcd's error, reads
// still work.
func expectOutOfSpace(ctx context.Context, c *etcdtest.Cluster) {
	GinkgoHelper()
	Expect(alarms(c)(ctx)).To(ContainElement("NOSPACE"))
	for i, m := range c.Members() {
		if m.State() != etcdtest.Running {
			continue
		}
		Expect(canWrite(c, i)(ctx)).To(MatchError(rpctypes.ErrNoSpace), "a write through %s", m.Name())
		_, err := m.Client().Get(ctx, "/space/any")
		Expect(err).NotTo(HaveOccurred(), "a read through %s", m.Name())
	}
}

// expectWritable asserts that c raised no alarm and accepts a write through every member.
func expectWritable(ctx context.Context, c *etcdtest.Cluster) {
	GinkgoHelper()
	Expect(alarms(c)(ctx)).To(BeEmpty())
	for i := range c.Members() {
		Expect(canWrite(c, i)(ctx)).To(Succeed(), "a write through %s", c.Member(i).Name())
	}
}

var _ = Describe("Space", func() {
	BeforeEach(func() { etcdtest.SkipIfExternal(cluster) })

	It("ExhaustSpace drives the cluster into NOSPACE quickly; RecoverSpace makes it writable again, keeping the keys", func(ctx SpecContext) {
		c := start(etcdtest.Config{QuotaBytes: smallQuota})
		Expect(c.Key("/space/kept").Put(ctx, "v")).To(Succeed())

		t0 := time.Now()
		Expect(c.ExhaustSpace(ctx)).To(Succeed())
		Expect(time.Since(t0)).To(BeNumerically("<", 5*time.Second), "a 1 MiB quota fills in about 0.15 s")
		expectOutOfSpace(ctx, c)
		Expect(valueOf(ctx, c, "/space/kept")).To(Equal("v"), "reads still work")
		resp, err := c.Client().Get(ctx, "etcdtest-exhaust-space")
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.Kvs).To(BeEmpty(), "ExhaustSpace's own key is gone from the keyspace")
		Expect(c.ExhaustSpace(ctx)).To(Succeed(), "again, on a cluster out of space: nothing to write")

		Expect(c.RecoverSpace(ctx)).To(Succeed())
		expectWritable(ctx, c)
		Expect(valueOf(ctx, c, "/space/kept")).To(Equal("v"))
		for i := range c.Members() {
			Expect(dbSize(ctx, c, i)).To(BeNumerically("<", smallQuota/4), "defragmented")
		}

		// And again: a spec may run out of space more than once.
		Expect(c.ExhaustSpace(ctx)).To(Succeed())
		expectOutOfSpace(ctx, c)
		Expect(c.RecoverSpace(ctx)).To(Succeed())
		expectWritable(ctx, c)
	})

	It("Compact drops every earlier revision on every member; Defragment shrinks a member's backend", func(ctx SpecContext) {
		c := start(etcdtest.Config{QuotaBytes: 4 * smallQuota})
		big := strings.Repeat("x", 16<<10)
		for range 20 {
			Expect(c.Key("/space/history").Put(ctx, big)).To(Succeed())
		}
		// A member's size moves when its backend commits (every 100 ms).
		Eventually(func(ctx context.Context) int64 { return dbSize(ctx, c, 0) }).WithContext(ctx).WithTimeout(shortly).Should(BeNumerically(">", 20*16<<10))
		before := dbSize(ctx, c, 0)

		rev, err := c.Compact(ctx)
		Expect(err).NotTo(HaveOccurred())
		for _, m := range c.Members() {
			_, err := m.Client().Get(ctx, "/space/history", clientv3.WithRev(rev-1))
			Expect(err).To(MatchError(rpctypes.ErrCompacted), "through %s", m.Name())
			resp, err := m.Client().Get(ctx, "/space/history", clientv3.WithRev(rev))
			Expect(err).NotTo(HaveOccurred())
			Expect(resp.Kvs).To(HaveLen(1), "the current revision stays")
		}
		again, err := c.Compact(ctx)
		Expect(err).NotTo(HaveOccurred(), "compacting to the revision compacted already is no error")
		Expect(again).To(Equal(rev))

		Expect(c.Member(0).Defragment(ctx)).To(Succeed())
		Expect(dbSize(ctx, c, 0)).To(BeNumerically("<", before/4), "the 19 overwritten values are gone from the file")
		Eventually(func(ctx context.Context) int64 { return dbSize(ctx, c, 1) }).WithContext(ctx).WithTimeout(shortly).Should(BeNumerically(">=", before/2), "another member keeps its file until it is defragmented")
	})

	It("ExhaustSpace refuses, at once, a quota too large to fill quickly", func(ctx SpecContext) {
		t0 := time.Now()
		err := cluster.ExhaustSpace(ctx) // the suite's cluster has etcd's default quota
		Expect(err).To(MatchError(ContainSubstring("ExhaustSpace: Config.QuotaBytes is 0, so etcd's default quota of 2 GiB applies")))
		Expect(err).To(MatchError(ContainSubstring("set Config.QuotaBytes, e.g. 1 << 20")))

		c := start(etcdtest.Config{Size: 1, QuotaBytes: 32 << 20})
		Expect(c.ExhaustSpace(ctx)).To(MatchError(
			"etcdtest: ExhaustSpace: Config.QuotaBytes is 33554432, more than the 16777216 bytes (16 MiB) ExhaustSpace fills quickly: set a smaller Config.QuotaBytes, e.g. 1 << 20"))
		Expect(alarms(c)(ctx)).To(BeEmpty())
		Expect(time.Since(t0)).To(BeNumerically("<", 5*time.Second))
	})

	DescribeTable("Start refuses a bad Config.QuotaBytes, naming the bound and the fix, leaving nothing behind",
		func(ctx SpecContext, quota int64, want ...string) {
			parent := GinkgoT().TempDir()
			t0 := time.Now()
			c, err := etcdtest.Start(ctx, etcdtest.Config{Binary: binary, DataDir: parent, QuotaBytes: quota})
			Expect(c).To(BeNil())
			for _, w := range want {
				Expect(err).To(MatchError(ContainSubstring(w)))
			}
			Expect(time.Since(t0)).To(BeNumerically("<", time.Second), "checked before anything starts")
			Expect(processesUsing(parent)).To(BeEmpty())
			Expect(os.ReadDir(parent)).To(BeEmpty())
		},
		Entry("below etcdtest.MinQuotaBytes", int64(etcdtest.MinQuotaBytes-1),
			"Config.QuotaBytes is 262143: the smallest usable quota is 262144 bytes (etcdtest.MinQuotaBytes, 256 KiB)", "e.g. 1 << 20"),
		Entry("negative", int64(-1),
			"Config.QuotaBytes is -1: it must not be negative", "0 means etcd's default, 2 GiB", `"--quota-backend-bytes=-1" in Config.ExtraFlags`),
	)

	It("passes the quota to etcd: the minimum works", func(ctx SpecContext) {
		c := start(etcdtest.Config{Size: 1, QuotaBytes: etcdtest.MinQuotaBytes})
		Expect(c.Key("/space/small").Put(ctx, "v")).To(Succeed())
		Expect(c.ExhaustSpace(ctx)).To(Succeed())
		expectOutOfSpace(ctx, c)
		Expect(c.RecoverSpace(ctx)).To(Succeed())
		expectWritable(ctx, c)
	})

	It("RecoverSpace says when live data fills the quota, leaving the alarm; once the data is deleted it recovers", func(ctx SpecContext) {
		c := start(etcdtest.Config{QuotaBytes: smallQuota})
		// Live data no compaction frees, written past the quota for sure:
		// auth roles, which etcd stores in the backend without charging
		// them against the quota (keys written until NOSPACE may leave a
		// little room after defragmentation, and then recovery works).
		_, err := c.Client().RoleAdd(ctx, "space-filler")
		Expect(err).NotTo(HaveOccurred())
		for i := range 2 {
			key := strconv.Itoa(i) + strings.Repeat("k", 600<<10)
			_, err := c.Client().RoleGrantPermission(ctx, "space-filler", key, "", clientv3.PermissionType(clientv3.PermRead))
			Expect(err).NotTo(HaveOccurred())
		}
		Eventually(canWrite(c, 0)).WithContext(ctx).WithTimeout(shortly).Should(MatchError(rpctypes.ErrNoSpace))
		Eventually(alarms(c)).WithContext(ctx).WithTimeout(shortly).Should(ContainElement("NOSPACE"))

		Expect(c.RecoverSpace(ctx)).To(MatchError(And(
			ContainSubstring("after compaction and defragmentation, at or over Config.QuotaBytes 1048576"),
			ContainSubstring("the live data (keys, leases, users and roles) fills the quota; delete some (Reset deletes every key) or raise Config.QuotaBytes. The NOSPACE alarm stays raised"))))
		expectOutOfSpace(ctx, c)

		_, err = c.Client().RoleDelete(ctx, "space-filler")
		Expect(err).NotTo(HaveOccurred(), "deletes work out of space")
		Expect(c.RecoverSpace(ctx)).To(Succeed())
		expectWritable(ctx, c)
	})

	Context("with faults", func() {
		It("ExhaustSpace works with a paused minority; RecoverSpace then fails at once, naming the member and the fix, and works once it is resumed", func(ctx SpecContext) {
			c := start(etcdtest.Config{QuotaBytes: smallQuota})
			frozen := c.Member(2)
			Expect(frozen.Pause()).To(Succeed())
			Expect(c.ExhaustSpace(ctx)).To(Succeed())
			expectOutOfSpace(ctx, c)

			t0 := time.Now()
			Expect(c.RecoverSpace(ctx)).To(MatchError(
				"etcdtest: RecoverSpace: node3 is paused: every member must be defragmented, and one that misses it raises NOSPACE again at its next write; Resume it first " +
					"(or recover around it by hand: Compact, Defragment on the members you choose, then Client().AlarmDisarm)"))
			Expect(frozen.Defragment(ctx)).To(MatchError("etcdtest: Defragment: node3 is paused and cannot be defragmented; Resume it first"))
			Expect(time.Since(t0)).To(BeNumerically("<", time.Second))
			expectOutOfSpace(ctx, c) // changed nothing

			Expect(frozen.Resume()).To(Succeed())
			Expect(c.RecoverSpace(ctx)).To(Succeed())
			expectWritable(ctx, c)
		})

		It("RecoverSpace with a killed member or an isolated one fails at once, saying which call repairs it", func(ctx SpecContext) {
			c := start(etcdtest.Config{QuotaBytes: smallQuota})
			Expect(c.ExhaustSpace(ctx)).To(Succeed())

			Expect(c.Member(0).Kill()).To(Succeed())
			Expect(c.RecoverSpace(ctx)).To(MatchError(ContainSubstring("RecoverSpace: node1 is killed: every member must be defragmented")))
			Expect(c.RecoverSpace(ctx)).To(MatchError(ContainSubstring("Restart it first")))
			Expect(c.Member(0).Restart(ctx)).To(Succeed())

			Expect(c.Isolate(1)).To(Succeed())
			t0 := time.Now()
			Expect(c.RecoverSpace(ctx)).To(MatchError("etcdtest: RecoverSpace: node2 cut off from the others by a network fault: it would not apply the compaction before its defragmentation; Heal first"))
			Expect(time.Since(t0)).To(BeNumerically("<", time.Second))
			Expect(c.Heal()).To(Succeed())

			expectOutOfSpace(ctx, c)
			Expect(c.RecoverSpace(ctx)).To(Succeed())
			expectWritable(ctx, c)
		})
	})

	It("a cluster out of space stops like any other, leaving nothing behind", func(ctx SpecContext) {
		parent := GinkgoT().TempDir()
		c, err := etcdtest.Start(ctx, etcdtest.Config{Binary: binary, DataDir: parent, QuotaBytes: smallQuota})
		Expect(err).NotTo(HaveOccurred())
		Expect(c.ExhaustSpace(ctx)).To(Succeed())
		Expect(c.Stop(ctx)).To(Succeed())
		Expect(processesUsing(parent)).To(BeEmpty())
		left, _ := filepath.Glob(filepath.Join(parent, "etcdtest-*", "*"))
		Expect(left).To(BeEmpty())
	})

	It("against an external cluster, every space operation returns ErrExternal", func(ctx SpecContext) {
		c := start(etcdtest.Config{Size: 1, QuotaBytes: smallQuota})
		GinkgoT().Setenv(etcdtest.EnvEndpoints, strings.Join(c.Endpoints(), ","))
		ext, err := etcdtest.Start(ctx, etcdtest.Config{})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(ext.Stop)
		_, compactErr := ext.Compact(ctx)
		for _, err := range []error{ext.ExhaustSpace(ctx), ext.RecoverSpace(ctx), compactErr, ext.Member(0).Defragment(ctx)} {
			Expect(err).To(MatchError(etcdtest.ErrExternal))
		}
		Expect(ext.ExhaustSpace(ctx)).To(MatchError(HavePrefix("ExhaustSpace: etcdtest: not available against an external cluster")))
		Expect(alarms(c)(ctx)).To(BeEmpty())
	})
})
