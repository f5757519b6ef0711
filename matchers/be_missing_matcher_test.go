package matchers_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

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

	It("counts a failed read as no match yet, and says what failed", func() {
		frozen := cluster.Member(2)
		key := frozen.Key("/matchers/missing")
		pause(frozen)

		m := matchers.BeMissing()
		ok, err := m.Match(key)
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeFalse())
		Expect(m.FailureMessage(key)).To(Equal("Expected key /matchers/missing via node3 not to exist, but reading it failed (no match on this poll; Eventually reads it again):\n" +
			"    etcdtest: get /matchers/missing via node3: context deadline exceeded"))

		Expect(frozen.Resume()).To(Succeed())
		Eventually(key).Should(matchers.BeMissing())
	})

	It("is an error, not a mismatch, on anything but a key", func() {
		m := matchers.BeMissing()
		_, err := m.Match("/matchers/missing")
		Expect(err).To(MatchError("BeMissing matcher expects an etcdtest.Key. Got:\n    <string>: /matchers/missing"))
		Expect(m.(types.OracleMatcher).MatchMayChangeInTheFuture("/matchers/missing")).To(BeFalse())
	})
})
