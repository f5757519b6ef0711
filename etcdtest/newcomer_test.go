package etcdtest_test

// The frictions of a newcomer's second day (issue 21), each answered on a
// real cluster: a member the toolkit stopped refuses calls at once, faults
// an earlier spec left are named where they bite, members are handed to
// the fault methods by handle, StartT takes GinkgoT(), and a minor Version
// means its pinned patch.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// skipIfExternal skips a spec that makes faults against an external cluster.
func skipIfExternal() {
	if os.Getenv(etcdtest.EnvEndpoints) != "" {
		Skip("faults are not available against an external cluster")
	}
}

// here returns "file:line" of the line after the call, where a spec makes
// the fault whose call a report must name.
func here() string {
	_, file, line, _ := runtime.Caller(1)
	return fmt.Sprintf("%s:%d", file, line+1)
}

var _ = Describe("A member's own client", Ordered, func() {
	const callTimeout = 2 * time.Second
	var c *etcdtest.Cluster

	BeforeAll(func() {
		skipIfExternal()
		c = etcdtest.Launch(etcdtest.Config{Binary: binary, CallTimeout: callTimeout})
	})

	// refused asserts that calls on m's own client fail at once with
	// ErrNotRunning, saying each thing in want.
	refused := func(ctx context.Context, m *etcdtest.Member, want ...string) {
		GinkgoHelper()
		calls := map[string]func() error{
			"Put": func() error { return m.Key("/newcomer").Put(ctx, "v") },
			"Get": func() error { _, err := m.Client().Get(context.Background(), "/newcomer"); return err },
			"Txn": func() error {
				_, err := m.Client().Txn(ctx).Then(clientv3.OpPut("/newcomer", "v")).Commit()
				return err
			},
		}
		for method, call := range calls {
			took, err := returnsWithin(5*time.Second, call)
			Expect(err).To(MatchError(etcdtest.ErrNotRunning), method)
			Expect(took).To(BeNumerically("<", callTimeout), "%s is refused, not left to wait out Config.CallTimeout", method)
			Expect(err.Error()).To(ContainSubstring("etcdtest: " + method + " on member " + m.Name()))
			for _, w := range want {
				Expect(err.Error()).To(ContainSubstring(w), method)
			}
		}
		// The shared client routes around the member meanwhile.
		Expect(c.Key("/newcomer").Put(ctx, "through the others")).To(Succeed())
	}

	It("refuses calls at once on a killed member, naming the Kill's line and the repair", func(ctx SpecContext) {
		m := c.Member(follower(ctx, c))
		at := here()
		Expect(m.Kill()).To(Succeed())
		DeferCleanup(m.Restart)
		refused(ctx, m, "it is killed by Member.Kill at "+at, "Restart(ctx) brings it back", "in DeferCleanup", "Cluster.Client routes around it")

		Expect(m.Restart(ctx)).To(Succeed())
		Expect(m.Key("/newcomer").Put(ctx, "served again")).To(Succeed(), "a restarted member's client serves again")
	}, SpecTimeout(40*time.Second))

	It("refuses calls on a stopped member the same way", func(ctx SpecContext) {
		m := c.Member(follower(ctx, c))
		at := here()
		Expect(m.Stop(ctx)).To(Succeed())
		DeferCleanup(m.Restart)
		refused(ctx, m, "it is stopped by Member.Stop at "+at, "Restart(ctx) brings it back")
	}, SpecTimeout(40*time.Second))

	It("refuses calls on a member that ended by itself, pointing at its log", func(ctx SpecContext) {
		m := c.Member(follower(ctx, c))
		p, err := os.FindProcess(m.Pid())
		Expect(err).NotTo(HaveOccurred())
		Expect(p.Kill()).To(Succeed()) // SIGKILL, not through the toolkit: as if it crashed
		DeferCleanup(m.Restart)
		Eventually(m.State).WithTimeout(shortly).Should(Equal(etcdtest.Exited))
		refused(ctx, m, "it is exited, so its own client refuses calls", "it ended by itself (see Logs)")
	}, SpecTimeout(40*time.Second))

	It("keeps a paused member's behaviour: a call waits, and Config.CallTimeout ends it", func(ctx SpecContext) {
		m := c.Member(follower(ctx, c))
		Expect(m.Pause()).To(Succeed())
		DeferCleanup(m.Resume)
		took, err := returnsWithin(3*callTimeout, func() error {
			_, err := m.Client().Get(context.Background(), "/newcomer")
			return err
		})
		Expect(errors.Is(err, etcdtest.ErrNotRunning)).To(BeFalse(), "a paused member's process is there: %v", err)
		var cte *etcdtest.CallTimeoutError
		Expect(errors.As(err, &cte)).To(BeTrue(), "%v", err)
		Expect(took).To(BeNumerically(">=", callTimeout))
	}, SpecTimeout(40*time.Second))
})

var _ = Describe("Faults an earlier spec left in force", Ordered, func() {
	var (
		c                      *etcdtest.Cluster
		killed                 *etcdtest.Member
		link                   *etcdtest.ClientLink
		killAt, delayAt, cutAt string
	)

	BeforeAll(func() {
		skipIfExternal()
		c = etcdtest.Launch(etcdtest.Config{Binary: binary})
	})

	It("are left by a spec that forgets its DeferCleanup", func(ctx SpecContext) {
		killed = c.Member(follower(ctx, c))
		killAt = here()
		Expect(killed.Kill()).To(Succeed())
		leader, err := c.Leader(ctx)
		Expect(err).NotTo(HaveOccurred())
		other := slices.DeleteFunc(c.Members(), func(m *etcdtest.Member) bool { return m == leader || m == killed })[0]
		delayAt = here()
		Expect(c.Delay(2*time.Millisecond, other.Index())).To(Succeed())
		link, err = c.NewClientLink()
		Expect(err).NotTo(HaveOccurred())
		cutAt = here()
		link.Cut()
	}, SpecTimeout(30*time.Second))

	It("are noted by the next spec's Reset on its GinkgoWriter, each with the line that made it and its repair", func(ctx SpecContext) {
		Expect(c.Reset(ctx)).To(Succeed())
		out := CurrentSpecReport().CapturedGinkgoWriterOutput
		Expect(out).To(ContainSubstring("etcdtest: Reset emptied the key space, but faults are in force, left by an earlier spec"))
		Expect(out).To(ContainSubstring(fmt.Sprintf("%s killed by Member.Kill at %s; lifted by Member(%d).Restart", killed.Name(), killAt, killed.Index())))
		Expect(out).To(MatchRegexp(`network delay 2ms \{node\d\} by Cluster\.Delay at %s; lifted by Cluster\.Heal`, delayAt))
		Expect(out).To(ContainSubstring("ClientLink 1 (%s) cut by ClientLink.Cut at %s; lifted by ClientLink.Heal", strings.Join(link.Endpoints(), " "), cutAt))

		// And a failure report shows the same, under the member states.
		d := c.Diagnostics()
		Expect(d).To(ContainSubstring("faults in force, and the calls that made them:"))
		Expect(d).To(ContainSubstring("killed by Member.Kill at " + killAt))
		Expect(d).To(ContainSubstring("by Cluster.Delay at " + delayAt))
	}, SpecTimeout(30*time.Second))

	It("are not repaired by Reset, and once repaired are noted no more", func(ctx SpecContext) {
		Expect(killed.State()).To(Equal(etcdtest.Killed), "Reset leaves faults alone")
		Expect(killed.Restart(ctx)).To(Succeed())
		Expect(c.Heal()).To(Succeed())
		link.Heal()
		Expect(c.Reset(ctx)).To(Succeed())
		Expect(CurrentSpecReport().CapturedGinkgoWriterOutput).NotTo(ContainSubstring("faults are in force"))
		Expect(c.Diagnostics()).NotTo(ContainSubstring("faults in force"))
	}, SpecTimeout(30*time.Second))
})

var _ = Describe("Members by handle", func() {
	It("go to every fault method as indexes, m.Index() for one and etcdtest.Indexes for many", func(ctx SpecContext) {
		skipIfExternal()
		c := start(etcdtest.Config{})
		leader, err := c.Leader(ctx)
		Expect(err).NotTo(HaveOccurred())
		others := slices.DeleteFunc(c.Members(), func(m *etcdtest.Member) bool { return m == leader })
		// Describe lists the groups by their first member.
		apart := BeElementOf(fmt.Sprintf("{%s} | {%s %s}", leader, others[0], others[1]), fmt.Sprintf("{%s %s} | {%s}", others[0], others[1], leader))
		Expect(etcdtest.Indexes(c.Members()...)).To(Equal([]int{0, 1, 2}))
		Expect(etcdtest.Indexes()).To(BeEmpty())

		Expect(c.Partition(etcdtest.Indexes(leader), etcdtest.Indexes(others...))).To(Succeed())
		Expect(c.NetworkFaults()).To(apart)
		Expect(c.Heal()).To(Succeed())

		Expect(c.CutOneWay(etcdtest.Indexes(leader), etcdtest.Indexes(others...))).To(Succeed())
		Expect(c.NetworkFaults()).To(Equal(fmt.Sprintf("%s -/-> {%s %s}", leader, others[0], others[1])))
		Expect(c.Heal()).To(Succeed())

		Expect(c.Isolate(leader.Index())).To(Succeed())
		DeferCleanup(c.Heal)
		Expect(c.NetworkFaults()).To(apart)
	}, SpecTimeout(30*time.Second))
})

var _ = Describe("StartT inside a Ginkgo spec", Ordered, func() {
	var c *etcdtest.Cluster

	It("takes GinkgoT()", func(ctx SpecContext) {
		c = etcdtest.StartT(GinkgoT(), etcdtest.Config{Binary: binary, Size: 1})
		Expect(c.Key("/k").Put(ctx, "v")).To(Succeed())
	}, SpecTimeout(20*time.Second))

	It("has the cluster stopped by the cleanup GinkgoT() registered", func() {
		Expect(c.Stopped()).To(BeTrue())
	})
})

var _ = Describe("A minor Config.Version", func() {
	It("means its newest pinned patch: \"3.7\" is v3.7.3", func(ctx SpecContext) {
		if !strings.Contains(binary, "etcd-test-cluster/etcd-v3.7.3-") {
			Skip("the suite does not run the managed v3.7.3 build, which this spec would have to build: " + binary)
		}
		GinkgoT().Setenv(etcdtest.EnvBinary, "") // a binary from the environment would win over Version
		path, err := etcdtest.Provision(ctx, etcdtest.Config{Version: "3.7"})
		Expect(err).NotTo(HaveOccurred())
		Expect(path).To(Equal(binary))
	}, SpecTimeout(20*time.Second))
})
