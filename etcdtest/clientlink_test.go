package etcdtest_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

var _ = Describe("Client links", func() {
	put := func(l *etcdtest.ClientLink) func(context.Context) error {
		return func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			_, err := l.Client().Put(ctx, "/link", "v")
			return err
		}
	}

	It("cut one client off while the cluster and other clients carry on, and restore it", func(ctx SpecContext) {
		link, err := cluster.NewClientLink()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(link.Close)
		Expect(link.Endpoints()).To(HaveLen(3))
		Expect(put(link)(ctx)).To(Succeed())

		link.Cut()
		Expect(link.NetworkFaults()).To(Equal("cut"))
		Consistently(put(link)).WithContext(ctx).WithTimeout(time.Second).ShouldNot(Succeed())
		Expect(cluster.Key("/other").Put(ctx, "still served")).To(Succeed())

		link.Heal()
		Eventually(put(link)).WithContext(ctx).WithTimeout(shortly).Should(Succeed())
	})

	It("lets a lease kept alive through a cut link expire", func(ctx SpecContext) {
		link, err := cluster.NewClientLink(0)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(link.Close)
		lease, err := link.Client().Grant(ctx, 1)
		Expect(err).NotTo(HaveOccurred())
		ka, err := link.Client().KeepAlive(ctx, lease.ID)
		Expect(err).NotTo(HaveOccurred())
		Consistently(ka).WithTimeout(1500 * time.Millisecond).ShouldNot(BeClosed())
		link.Cut()
		Eventually(func(ctx context.Context) int64 {
			r, err := cluster.Client().TimeToLive(ctx, lease.ID)
			if err != nil {
				return 0
			}
			return r.TTL
		}).WithContext(ctx).WithTimeout(shortly).Should(Equal(int64(-1)))
	})

	It("adds latency", func(ctx SpecContext) {
		link, err := cluster.NewClientLink(1)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(link.Close)
		Expect(put(link)(ctx)).To(Succeed())
		link.Delay(400 * time.Millisecond)
		Expect(put(link)(ctx)).To(MatchError(context.DeadlineExceeded), "a 300ms request cannot cross 2×400ms")
		link.Delay(0)
		Eventually(put(link)).WithContext(ctx).WithTimeout(shortly).Should(Succeed())
	})

	DescribeTable("work on secure clusters: Cut, Heal and Delay with TLS and auth",
		func(ctx SpecContext, cfg etcdtest.Config) {
			cfg.Binary = binary
			c := etcdtest.Launch(cfg)
			link, err := c.NewClientLink()
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(link.Close)
			scheme := "http://"
			if cfg.TLS {
				scheme = "https://"
			}
			Expect(link.Endpoints()).To(HaveLen(3))
			Expect(link.Endpoints()).To(HaveEach(HavePrefix(scheme)))
			if cfg.Auth {
				user := c.ClientConfig().Username
				Expect(link.Client().Username).To(Equal(user), "the link's client logs in")
			}
			// With auth on, a write needs the root user's token; with TLS,
			// the handshake through the link must verify the member.
			Eventually(put(link)).WithContext(ctx).WithTimeout(shortly).Should(Succeed())

			link.Cut()
			Consistently(put(link)).WithContext(ctx).WithTimeout(600 * time.Millisecond).ShouldNot(Succeed())
			Expect(c.Key("/other").Put(ctx, "still served")).To(Succeed())
			link.Heal()
			Eventually(put(link)).WithContext(ctx).WithTimeout(shortly).Should(Succeed())

			link.Delay(400 * time.Millisecond)
			Expect(put(link)(ctx)).To(MatchError(context.DeadlineExceeded), "a 300ms request cannot cross 2×400ms")
			link.Delay(0)
			Eventually(put(link)).WithContext(ctx).WithTimeout(shortly).Should(Succeed())
			v, found, err := c.Key("/link").Get(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(found).To(BeTrue())
			Expect(v).To(Equal("v"))
		},
		Entry("TLS", etcdtest.Config{TLS: true}),
		Entry("auth", etcdtest.Config{Auth: true}),
		Entry("TLS and auth", etcdtest.Config{TLS: true, Auth: true}),
	)

	It("rejects unknown members, and closes with the cluster", func(ctx SpecContext) {
		_, err := cluster.NewClientLink(5)
		Expect(err).To(MatchError(ContainSubstring("no member 5; use 0..2")))
		c := start(etcdtest.Config{Size: 1})
		link, err := c.NewClientLink()
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Stop(ctx)).To(Succeed())
		_, err = link.Client().Get(ctx, "/x")
		Expect(err).To(HaveOccurred())
	})
})
