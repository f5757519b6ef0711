package etcdtest_test

import (
	"context"
	"errors"
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// returnsWithin runs f and returns how long it took and its error; the spec
// fails if f has not returned within limit (f keeps running in the
// background then, on a cluster the spec's cleanup stops).
func returnsWithin(limit time.Duration, f func() error) (time.Duration, error) {
	GinkgoHelper()
	type result struct {
		err  error
		took time.Duration
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		defer GinkgoRecover()
		err := f()
		done <- result{err, time.Since(start)}
	}()
	var r result
	Eventually(done).WithTimeout(limit).Should(Receive(&r), "the call did not return within %v", limit)
	return r.took, r.err
}

// follower returns the index of a member of c that is not the raft leader.
func follower(ctx context.Context, c *etcdtest.Cluster) int {
	GinkgoHelper()
	leader, err := c.Leader(ctx)
	Expect(err).NotTo(HaveOccurred())
	for i, m := range c.Members() {
		if m != leader {
			return i
		}
	}
	Fail("no follower")
	return -1
}

var _ = Describe("Toolkit clients", func() {
	BeforeEach(func() {
		if os.Getenv(etcdtest.EnvEndpoints) != "" {
			Skip("faults are not available against an external cluster")
		}
	})

	It("refuses a negative Config.CallTimeout, naming the field", func(ctx SpecContext) {
		c, err := etcdtest.Start(ctx, etcdtest.Config{Binary: binary, CallTimeout: -time.Second})
		Expect(c).To(BeNil())
		Expect(err).To(MatchError(And(ContainSubstring("Config.CallTimeout is -1s"), ContainSubstring("must not be negative"))))
	})

	Context("with a default call deadline (Config.CallTimeout)", Ordered, func() {
		const callTimeout = time.Second
		var c *etcdtest.Cluster

		BeforeAll(func() {
			c = etcdtest.Launch(etcdtest.Config{Binary: cluster.Binary(), CallTimeout: callTimeout})
		})

		// bounded gives a call that must succeed its own deadline, well
		// above this cluster's 1s CallTimeout, so a loaded machine (ginkgo
		// -p on 2 cores) does not fail it.
		bounded := func(ctx context.Context) context.Context {
			ctx, cancel := context.WithTimeout(ctx, shortly)
			DeferCleanup(cancel)
			return ctx
		}

		// isCallTimeout asserts err is the default deadline's, named as such.
		isCallTimeout := func(err error, method string, endpoints ...string) {
			GinkgoHelper()
			Expect(err).To(MatchError(ContainSubstring("etcdtest: " + method + ": no answer from")))
			Expect(err).To(MatchError(ContainSubstring("within Config.CallTimeout (1s)")))
			Expect(err).To(MatchError(Or(ContainSubstring("the call's context had no deadline"),
				ContainSubstring("the call's context is Ginkgo's SpecContext, which has no deadline even under SpecTimeout"))))
			for _, ep := range endpoints {
				Expect(err.Error()).To(ContainSubstring(ep))
			}
			Expect(errors.Is(err, context.DeadlineExceeded)).To(BeTrue(), "errors.Is(err, context.DeadlineExceeded)")
			Expect(status.Code(err)).To(Equal(codes.DeadlineExceeded))
			var cte *etcdtest.CallTimeoutError
			Expect(errors.As(err, &cte)).To(BeTrue())
			Expect(cte.Timeout).To(Equal(callTimeout))
		}

		It("ends a call without a deadline on a paused member's own client, naming the deadline", func(ctx SpecContext) {
			m := c.Member(follower(bounded(ctx), c))
			Expect(m.Pause()).To(Succeed())
			DeferCleanup(m.Resume)

			took, err := returnsWithin(5*time.Second, func() error {
				_, err := m.Client().Get(context.Background(), "/paused")
				return err
			})
			isCallTimeout(err, "Get", m.ClientURL())
			var cte *etcdtest.CallTimeoutError
			Expect(errors.As(err, &cte)).To(BeTrue())
			Expect(cte.InSpec).To(BeFalse(), "context.Background() is no spec's context")
			Expect(err.Error()).To(ContainSubstring("the call's context had no deadline"))
			Expect(took).To(BeNumerically(">=", callTimeout))
			Expect(took).To(BeNumerically("<", callTimeout+time.Second))
			GinkgoWriter.Printf("Get on a paused member returned after %v: %v\n", took, err)

			// A spec's own context has no deadline either; a Txn gets one too.
			_, err = returnsWithin(5*time.Second, func() error {
				_, err := m.Client().Txn(ctx).Then(clientv3.OpPut("/paused", "v")).Commit()
				return err
			})
			isCallTimeout(err, "Txn", m.ClientURL())
			Expect(errors.As(err, &cte)).To(BeTrue())
			Expect(cte.InSpec).To(BeTrue(), "the spec's own SpecContext")
			Expect(err.Error()).To(ContainSubstring("so the bound that applied is the toolkit client's Config.CallTimeout, not the spec's timeout"))
			_, err = returnsWithin(5*time.Second, func() error {
				_, err := m.Client().Grant(ctx, 5)
				return err
			})
			isCallTimeout(err, "Grant", m.ClientURL())
		})

		It("ends a call through a cut ClientLink, naming the link's endpoints", func(ctx SpecContext) {
			link, err := c.NewClientLink(0, 1)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(link.Close)
			_, err = link.Client().Put(bounded(ctx), "/linked", "v")
			Expect(err).NotTo(HaveOccurred())
			link.Cut()
			_, err = returnsWithin(5*time.Second, func() error {
				_, err := link.Client().Put(ctx, "/linked", "w")
				return err
			})
			isCallTimeout(err, "Put", link.Endpoints()...)
			Expect(err).To(MatchError(ContainSubstring("any of the members")))
		})

		It("keeps a call's own deadline, shorter or longer than CallTimeout", func(ctx SpecContext) {
			m := c.Member(follower(bounded(ctx), c))
			Expect(m.Pause()).To(Succeed())
			DeferCleanup(m.Resume)

			for _, own := range []time.Duration{300 * time.Millisecond, callTimeout + 1500*time.Millisecond} {
				took, err := returnsWithin(own+3*time.Second, func() error {
					cctx, cancel := context.WithTimeout(ctx, own)
					defer cancel()
					_, err := m.Client().Get(cctx, "/paused")
					return err
				})
				Expect(err).To(MatchError(context.DeadlineExceeded))
				Expect(err).NotTo(MatchError(ContainSubstring("CallTimeout")), "the caller's own deadline ended the call")
				var cte *etcdtest.CallTimeoutError
				Expect(errors.As(err, &cte)).To(BeFalse())
				Expect(took).To(BeNumerically(">=", own))
				Expect(took).To(BeNumerically("<", own+time.Second))
			}
		})

		It("never cuts a stream: a Watch and a lease KeepAlive outlive CallTimeout", func(ctx SpecContext) {
			cli := c.Member(0).Client()
			wctx, cancel := context.WithCancel(ctx) // no deadline, like most watches
			DeferCleanup(cancel)
			wch := cli.Watch(wctx, "/watched")
			lease, err := cli.Grant(bounded(ctx), 1)
			Expect(err).NotTo(HaveOccurred())
			ka, err := cli.KeepAlive(wctx, lease.ID)
			Expect(err).NotTo(HaveOccurred())

			Consistently(wch).WithTimeout(2*callTimeout + 500*time.Millisecond).ShouldNot(Receive())
			Eventually(ka).Should(Receive(Not(BeNil())), "the lease's keep-alive stream still answers")
			ttl, err := cli.TimeToLive(bounded(ctx), lease.ID)
			Expect(err).NotTo(HaveOccurred())
			// TTL is whole seconds left, rounded down: 0 is alive, -1 expired.
			Expect(ttl.TTL).To(BeNumerically(">=", 0), "the 1s lease was kept alive past 2.5s")

			Expect(c.Key("/watched").Put(bounded(ctx), "late")).To(Succeed())
			var resp clientv3.WatchResponse
			Eventually(wch).WithTimeout(shortly).Should(Receive(&resp))
			Expect(resp.Err()).NotTo(HaveOccurred())
			Expect(resp.Events).To(HaveLen(1))
			Expect(string(resp.Events[0].Kv.Value)).To(Equal("late"))
		})
	})

	Context("made from ClientConfig", func() {
		It("are quiet and send keep-alives", func() {
			cfg := cluster.ClientConfig()
			Expect(cfg.Logger).NotTo(BeNil(), "a nil Logger means etcd's default, which prints JSON warnings")
			Expect(cfg.Logger.Core().Enabled(-1)).To(BeFalse(), "the logger drops debug")
			Expect(cfg.Logger.Core().Enabled(2)).To(BeFalse(), "the logger drops errors")
			Expect(cfg.DialKeepAliveTime).To(BeNumerically(">", 0))
			Expect(cfg.DialKeepAliveTimeout).To(BeNumerically(">", 0))
			Expect(cfg.PermitWithoutStream).To(BeFalse(), "etcd answers pings without a call with GOAWAY too_many_pings")
		})

		// The toolkit moves its own clients off members it freezes; a
		// client of the user's has only its keep-alive to notice.
		It("move a Watch off a member that froze under it (gRPC keep-alive)", func(ctx SpecContext) {
			c := start(etcdtest.Config{})
			cli, err := clientv3.New(c.ClientConfig())
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(cli.Close)
			wctx, cancel := context.WithCancel(ctx)
			DeferCleanup(cancel)
			wch := cli.Watch(wctx, "/ka")
			put := func(v string) {
				GinkgoHelper()
				pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				defer cancel()
				_, err := cli.Put(pctx, "/ka", v)
				Expect(err).NotTo(HaveOccurred())
			}
			put("1")
			var resp clientv3.WatchResponse
			Eventually(wch).WithTimeout(shortly).Should(Receive(&resp))
			Expect(resp.Err()).NotTo(HaveOccurred())

			// The member that serves the watch.
			frozenID := resp.Header.MemberId
			serving := -1
			members, err := c.Client().MemberList(ctx)
			Expect(err).NotTo(HaveOccurred())
			for _, pm := range members.Members {
				if pm.ID == resp.Header.MemberId {
					for i, m := range c.Members() {
						if m.Name() == pm.Name {
							serving = i
						}
					}
				}
			}
			Expect(serving).To(BeNumerically(">=", 0), "member %x serves the watch", resp.Header.MemberId)
			Expect(c.Member(serving).Pause()).To(Succeed())
			DeferCleanup(c.Member(serving).Resume)
			paused := time.Now()
			other := c.Member((serving + 1) % 3).Client()
			pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
			defer pcancel()
			_, err = other.Put(pctx, "/ka", "2")
			Expect(err).NotTo(HaveOccurred())

			Eventually(wch).WithTimeout(25*time.Second).Should(Receive(&resp),
				"the watch stays on the frozen member: its keep-alive did not notice")
			Expect(resp.Err()).NotTo(HaveOccurred())
			Expect(resp.Events).NotTo(BeEmpty())
			Expect(string(resp.Events[len(resp.Events)-1].Kv.Value)).To(Equal("2"))
			Expect(resp.Header.MemberId).NotTo(Equal(frozenID), "served by another member")
			GinkgoWriter.Printf("the watch moved off the paused member %v after the pause\n", time.Since(paused))
		})
	})
})
