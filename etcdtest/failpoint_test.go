package etcdtest_test

import (
	"context"
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// startFailpoints boots a cluster of the suite's etcd release with
// failpoints; with $ETCDTEST_BINARY set the binary must have them, and a
// spec on one without is skipped.
func startFailpoints(cfg etcdtest.Config) *etcdtest.Cluster {
	GinkgoHelper()
	etcdtest.SkipIfExternal(cluster)
	cfg.Failpoints = true
	if cfg.Binary == "" && os.Getenv(etcdtest.EnvBinary) == "" {
		cfg.Version = cluster.Version()
	}
	c, err := etcdtest.Start(context.Background(), cfg)
	if err != nil && os.Getenv(etcdtest.EnvBinary) != "" && cfg.Binary == "" {
		Skip("the failpoint specs need a failpoint build; $ETCDTEST_BINARY has none: " + err.Error())
	}
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func(ctx SpecContext) { Expect(c.Stop(ctx)).To(Succeed()) }, NodeTimeout(20*time.Second))
	return c
}

// keyValue is k's value, failing the spec if it cannot be read or is absent.
func keyValue(ctx context.Context, k etcdtest.Key) string {
	GinkgoHelper()
	v, found, err := k.Get(ctx)
	Expect(err).NotTo(HaveOccurred())
	Expect(found).To(BeTrue(), "%s is not there", k)
	return v
}

// provisionFailpoints builds the failpoint build of the suite's release if
// it is not cached, outside any spec's timeout: the first build takes a
// minute or two.
func provisionFailpoints(ctx context.Context) {
	if os.Getenv(etcdtest.EnvBinary) == "" && !cluster.External() {
		_, err := etcdtest.Provision(ctx, etcdtest.Config{Failpoints: true, Version: cluster.Version()})
		Expect(err).NotTo(HaveOccurred())
	}
}

var _ = Describe("Failpoints", Ordered, func() {
	BeforeAll(func(ctx SpecContext) { provisionFailpoints(ctx) }, NodeTimeout(10*time.Minute))

	It("lists every member's failpoints, arms one with gofail's syntax and clears it", func(ctx SpecContext) {
		c := startFailpoints(etcdtest.Config{})
		Expect(c.HasFailpoints()).To(BeTrue())
		m := c.Member(1)
		fps, err := m.Failpoints(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(fps).To(HaveKeyWithValue("raftAfterSave", ""))
		Expect(fps).To(HaveKeyWithValue("beforeCommit", ""))
		Expect(len(fps)).To(BeNumerically(">=", 40))

		Expect(m.Failpoint(ctx, "beforeCommit", "sleep(1)")).To(Succeed())
		Expect(m.Failpoints(ctx)).To(HaveKeyWithValue("beforeCommit", "sleep(1)"))
		Expect(c.Member(0).Failpoints(ctx)).To(HaveKeyWithValue("beforeCommit", ""), "each member has its own endpoint")
		Expect(c.Key("/k").Put(ctx, "through a sleeping commit")).To(Succeed())
		Expect(m.ClearFailpoint(ctx, "beforeCommit")).To(Succeed())
		Expect(m.Failpoints(ctx)).To(HaveKeyWithValue("beforeCommit", ""))
		Expect(m.ClearFailpoint(ctx, "beforeCommit")).To(Succeed(), "clearing what is not armed is no error")
		Expect(m.Logs()).To(ContainSubstring("failpoint beforeCommit=sleep(1) armed on " + m.Name()))
	}, SpecTimeout(2*time.Minute))

	It("crashes a member where it panics: Exited, its log names the failpoint, the others settle, Restart brings it back with its data", func(ctx SpecContext) {
		c := startFailpoints(etcdtest.Config{})
		Expect(c.Key("/before").Put(ctx, "v")).To(Succeed())
		m := c.Member(2)
		// raft's save runs on every Ready, heartbeats included: it fires
		// within a heartbeat, traffic or not.
		Expect(m.Failpoint(ctx, "raftAfterSave", "panic")).To(Succeed())
		Expect(m.WaitCrash(ctx)).To(Succeed())
		Expect(m.State()).To(Equal(etcdtest.Exited))
		Expect(m.Logs()).To(ContainSubstring("failpoint panic"))
		Expect(m.Logs()).To(ContainSubstring("exited by itself"))
		Expect(m.Logs()).To(ContainSubstring("failpoints armed: raftAfterSave=panic"))
		Expect(c.Key("/after").Put(ctx, "the others carry on")).To(Succeed())

		Expect(m.Restart(ctx)).To(Succeed())
		Expect(keyValue(ctx, m.Key("/after"))).To(Equal("the others carry on"))
		Expect(m.Failpoints(ctx)).To(HaveKeyWithValue("raftAfterSave", ""), "a new process has nothing armed")
	}, SpecTimeout(2*time.Minute))

	It("crashes a member mid-defragmentation: Defragment fails, WaitCrash sees the exit, Restart brings the data back", func(ctx SpecContext) {
		c := startFailpoints(etcdtest.Config{})
		Expect(c.Key("/kept").Put(ctx, "v")).To(Succeed())
		m := c.Member(1)
		Expect(m.Failpoint(ctx, "defragBeforeRename", "panic")).To(Succeed())
		Expect(m.Defragment(ctx)).NotTo(Succeed())
		Expect(m.WaitCrash(ctx)).To(Succeed())
		Expect(m.State()).To(Equal(etcdtest.Exited))
		Expect(m.Restart(ctx)).To(Succeed())
		Expect(keyValue(ctx, m.Key("/kept"))).To(Equal("v"))
	}, SpecTimeout(2*time.Minute))

	It("gives a write through a member that panics at raftAfterSave an error, and after Restart the write is there", func(ctx SpecContext) {
		// One member: raft saves only when there is something to save, so
		// the panic comes with the write, after the entry is in the WAL and
		// before it is applied or answered — the unknown outcome.
		c := startFailpoints(etcdtest.Config{Size: 1})
		m := c.Member(0)
		Expect(m.Failpoint(ctx, "raftAfterSave", "panic")).To(Succeed())
		put, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := m.Client().Put(put, "/story", "written?")
		if c.Version() >= "v3.6" {
			Expect(err).To(HaveOccurred(), "the member crashed before it answered")
		} // else 3.5's raft commits a lone member's entry in the Ready that saves it and applies it meanwhile: the answer may come first
		Expect(m.WaitCrash(ctx)).To(Succeed())
		Expect(m.Restart(ctx)).To(Succeed())
		Expect(keyValue(ctx, m.Key("/story"))).To(Equal("written?"), "the write was in the WAL: it happened")
	}, SpecTimeout(2*time.Minute))

	It("refuses bad input with errors that name the cause and the fix", func(ctx SpecContext) {
		c := startFailpoints(etcdtest.Config{Size: 1})
		m := c.Member(0)
		err := m.Failpoint(ctx, "raftAftrSave", "panic")
		Expect(err).To(MatchError(And(ContainSubstring(`has no failpoint "raftAftrSave"`), ContainSubstring("the closest are raftAfterSave"),
			ContainSubstring("Member.Failpoints lists all"))))
		Expect(m.ClearFailpoint(ctx, "nothingLikeIt")).To(MatchError(ContainSubstring(`has no failpoint "nothingLikeIt": it has `)))
		Expect(m.Failpoint(ctx, "raftAfterSave", "panik")).To(MatchError(ContainSubstring(`failed to parse "panik" past "panik"`)))
		Expect(m.Failpoint(ctx, "raftAfterSave", "")).To(MatchError(ContainSubstring("the action is empty")))
		Expect(m.Failpoint(ctx, "raft/AfterSave", "panic")).To(MatchError(ContainSubstring("is not a failpoint name")))
		Expect(m.Failpoints(ctx)).To(HaveKeyWithValue("raftAfterSave", ""), "nothing was armed")

		Expect(cluster.Member(0).Failpoint(ctx, "raftAfterSave", "panic")).To(MatchError(ContainSubstring("start it with Config{Failpoints: true}")))
		Expect(cluster.HasFailpoints()).To(BeFalse())
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		Expect(m.WaitCrash(short)).
			To(MatchError(ContainSubstring("still running when context deadline exceeded (armed: none)")))

		Expect(m.Kill()).To(Succeed())
		Expect(m.Failpoint(ctx, "raftAfterSave", "panic")).To(MatchError(ContainSubstring("is killed; gofail's endpoint lives in its process: Restart it first")))
		Expect(m.WaitCrash(ctx)).To(MatchError(ContainSubstring("it is killed, not running")))
	}, SpecTimeout(2*time.Minute))

	It("takes a Config.Binary with failpoints, and refuses one without", func(ctx SpecContext) {
		fp := startFailpoints(etcdtest.Config{Size: 1})
		c := startFailpoints(etcdtest.Config{Size: 1, Binary: fp.Binary()})
		Expect(c.Member(0).Failpoint(ctx, "beforeCommit", "off")).To(Succeed())
		Expect(c.Member(0).Failpoints(ctx)).To(HaveKeyWithValue("beforeCommit", "off"))

		if cluster.HasFailpoints() || binary == fp.Binary() {
			return
		}
		_, err := etcdtest.Start(ctx, etcdtest.Config{Size: 1, Binary: binary, Failpoints: true})
		Expect(err).To(MatchError(And(ContainSubstring("Config.Failpoints is set, but Config.Binary"), ContainSubstring("has no gofail failpoints"))))
	}, SpecTimeout(2*time.Minute))
})
