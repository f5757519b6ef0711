package matchers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

var _ = Describe("BeMissing", func() {
	It("matches a key that does not exist, read through any member", func(ctx SpecContext) {
		key := cluster.Key("/matchers/missing")
		Expect(key).To(matchers.BeMissing())
		Expect(key.Put(ctx, "here")).To(Succeed())
		Expect(cluster.Member(0).Key("/matchers/missing")).NotTo(matchers.BeMissing())

		Expect(key.Delete(ctx)).To(Succeed())
		Eventually(cluster.Member(2).Key("/matchers/missing")).Should(matchers.BeMissing())
	})

	It("says what the key holds, or that it exists not", func(ctx SpecContext) {
		key := cluster.Member(0).Key("/matchers/missing")
		Expect(key.Put(ctx, "here")).To(Succeed())
		m := matchers.BeMissing()
		Expect(m.Match(key)).To(BeFalse())
		Expect(m.FailureMessage(key)).To(Equal("Expected key /matchers/missing via node1 not to exist, but it has the value\n    <string>: here"))

		Expect(m.Match(&key)).To(BeFalse())
		Expect(key.Delete(ctx)).To(Succeed())
		Expect(m.Match(key)).To(BeTrue())
		Expect(m.NegatedFailureMessage(key)).To(Equal("Expected key /matchers/missing via node1 to exist, but it does not"))
	})

	Describe("while the member it is read through is paused", func() {
		var frozen *etcdtest.Member
		var key etcdtest.Key
		var cannotRead string

		BeforeEach(func(ctx SpecContext) {
			frozen = follower(ctx)
			Expect(cluster.Key("/matchers/missing").Put(ctx, "here")).To(Succeed())
			key = frozen.Key("/matchers/missing")
			Eventually(key).ShouldNot(matchers.BeMissing()) // the follower has applied the put
			cannotRead = "matchers.BeMissing: cannot read /matchers/missing via " + frozen.Name() +
				": context deadline exceeded (no answer within QueryTimeout, 1s)"
			pause(frozen)
		})

		It("is an error, not a mismatch", func() {
			m := matchers.BeMissing()
			ok, err := m.Match(key)
			Expect(err).To(MatchError(cannotRead))
			Expect(ok).To(BeFalse())
			Expect(m.(types.OracleMatcher).MatchMayChangeInTheFuture(key)).To(BeTrue())
		})

		It("fails Expect and Consistently in both forms, with the read error", func() {
			Expect(InterceptGomegaFailure(func() {
				Expect(key).NotTo(matchers.BeMissing())
			})).To(MatchError(cannotRead))
			Expect(InterceptGomegaFailure(func() {
				Expect(key).To(matchers.BeMissing())
			})).To(MatchError(cannotRead))
			Expect(InterceptGomegaFailures(func() {
				Consistently(key, 3*time.Second).ShouldNot(matchers.BeMissing())
			})).To(HaveExactElements(MatchText("Failed after <N>.<N>s.\n" + cannotRead + "\n")))
		})

		It("lets Eventually read again until the member is resumed", func(ctx SpecContext) {
			Expect(cluster.Key("/matchers/missing").Delete(ctx)).To(Succeed()) // through the majority
			eventuallyAcrossResume(key, matchers.BeMissing(), frozen, cannotRead)
		})
	})

	It("is an error, not a mismatch, on anything but a key", func() {
		m := matchers.BeMissing()
		_, err := m.Match("/matchers/missing")
		Expect(err).To(MatchError("BeMissing matcher expects an etcdtest.Key. Got:\n    <string>: /matchers/missing"))
		Expect(m.(types.OracleMatcher).MatchMayChangeInTheFuture("/matchers/missing")).To(BeFalse())
	})
})
