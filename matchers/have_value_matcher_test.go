package matchers_test

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

var _ = Describe("HaveValue", func() {
	Describe("on a node", func() {
		var path string
		var a, b *locker.Node

		BeforeEach(func() {
			path = newPath()
			a = newNode(path, "a", "value of a")
			b = newNode(path, "b", "value of b")
		})

		It("matches the elected value the node sees, against a value or a matcher", func(ctx SpecContext) {
			Eventually(b).Should(matchers.HaveValue("value of a"))
			Expect(b).To(matchers.HaveValue(HavePrefix("value of")))
			// Each node's view comes from its own watch: b's seeing a's key
			// says nothing of when a's watch delivers it (CI saw a 6 ms lag).
			Eventually(a).Should(matchers.HaveValue("value of a"))
			Consistently(a, 200*time.Millisecond).Should(matchers.HaveValue("value of a"))

			Expect(a.Write(ctx, "new value of a")).To(Succeed()) // the leader resigns: b is elected
			Eventually(b).Should(matchers.HaveValue("value of b"))
			Eventually(a).Should(matchers.HaveValue("value of b"))
		})

		It("says what the node sees when the value differs", func() {
			Eventually(b).Should(matchers.HaveValue("value of a"))
			revA := createRevision(path + "/a")

			m := matchers.HaveValue("value of c")
			Expect(m.Match(b)).To(BeFalse())
			Expect(m.FailureMessage(b)).To(HavePrefix(fmt.Sprintf(`The elected value as node "b" on %[1]s sees it:
Expected
    <string>: value of a
to equal
    <string>: value of c
node "b" sees:
    elected: no
    leader:  "a" with value "value of a", fencing token %[2]d
    own:     in the election with value "value of b"
etcd says (keys under %[1]s/ in create-revision order, revision `, path, revA)))

			m = matchers.HaveValue(HaveSuffix("of a"))
			Expect(m.Match(b)).To(BeTrue())
			Expect(m.NegatedFailureMessage(b)).To(HavePrefix(`The elected value as node "b" on ` + path + ` sees it:
Expected
    <string>: value of a
not to have suffix
    <string>: of a
node "b" sees:
`))
		})

		It("does not match while the node sees no leader", func(ctx SpecContext) {
			Expect(a.Reset(ctx)).To(Succeed())
			Expect(b.Reset(ctx)).To(Succeed())
			m := matchers.HaveValue("value of a")
			Eventually(b).ShouldNot(matchers.HaveLeader(Not(BeEmpty())))
			Expect(m.Match(b)).To(BeFalse())
			Expect(m.FailureMessage(b)).To(HavePrefix(fmt.Sprintf(`Expected node "b" on %[1]s to see an elected value matching
    <string>: value of a
but it sees no leader
node "b" sees:
    elected: no
    leader:  none
    own:     not in the election
etcd says: no candidate keys under %[1]s/ (revision `, path)))
		})

		It("gives up at once on a closed node", func() {
			Expect(b.Close()).To(Succeed())
			bailsOutEarly(b, matchers.HaveValue("value of b"))
		})
	})

	Describe("on a key", func() {
		var key etcdtest.Key

		BeforeEach(func(ctx SpecContext) {
			key = cluster.Key("/matchers/key")
			Expect(key.Put(ctx, "v1")).To(Succeed())
		})

		It("matches the key's current value, read through any member", func(ctx SpecContext) {
			Expect(key).To(matchers.HaveValue("v1"))
			Expect(&key).To(matchers.HaveValue("v1"))
			through := cluster.Member(2).Key("/matchers/key")
			Expect(through).To(matchers.HaveValue(HavePrefix("v")))

			go func() {
				defer GinkgoRecover()
				time.Sleep(50 * time.Millisecond) // a write that lands while Eventually polls
				Expect(key.Put(ctx, "v2")).To(Succeed())
			}()
			Eventually(through).Should(matchers.HaveValue("v2"))
			Consistently(through, 200*time.Millisecond).Should(matchers.HaveValue("v2"))
		})

		It("says what the key holds", func() {
			m := matchers.HaveValue("v2")
			Expect(m.Match(cluster.Member(2).Key("/matchers/key"))).To(BeFalse())
			Expect(m.FailureMessage(nil)).To(Equal("The value of key /matchers/key via node3:\nExpected\n    <string>: v1\nto equal\n    <string>: v2"))

			m = matchers.HaveValue("v1")
			Expect(m.Match(key)).To(BeTrue())
			Expect(m.NegatedFailureMessage(nil)).To(Equal("The value of key /matchers/key via cluster:\nExpected\n    <string>: v1\nnot to equal\n    <string>: v1"))
		})

		It("does not match a key that does not exist, and says so", func() {
			m := matchers.HaveValue("v1")
			Expect(m.Match(cluster.Key("/matchers/none"))).To(BeFalse())
			Expect(m.FailureMessage(nil)).To(Equal("Expected key /matchers/none via cluster to have a value matching\n    <string>: v1\nbut the key does not exist"))
		})

		Describe("while the member it is read through is paused", func() {
			var frozen *etcdtest.Member
			var through etcdtest.Key
			var cannotRead string

			BeforeEach(func(ctx SpecContext) {
				frozen = follower(ctx)
				through = frozen.Key("/matchers/key")
				cannotRead = "matchers.HaveValue: cannot read /matchers/key via " + frozen.Name() +
					": context deadline exceeded (no answer within QueryTimeout, 1s)"
				pause(frozen)
			})

			It("is an error, not a mismatch, bounded by QueryTimeout", func() {
				m := matchers.HaveValue("old")
				start := time.Now()
				ok, err := m.Match(through)
				Expect(err).To(MatchError(cannotRead))
				Expect(err).To(MatchError(context.DeadlineExceeded), "the error wraps etcd's")
				Expect(ok).To(BeFalse())
				Expect(time.Since(start)).To(BeNumerically("<", matchers.QueryTimeout+time.Second), "the read is bounded")
				Expect(m.(types.OracleMatcher).MatchMayChangeInTheFuture(through)).To(BeTrue(), "a resumed member answers again")
			})

			It("fails Expect in both forms, with the read error", func() {
				Expect(InterceptGomegaFailure(func() {
					Expect(through).NotTo(matchers.HaveValue("old"))
				})).To(MatchError(cannotRead))
				Expect(InterceptGomegaFailure(func() {
					Expect(through).To(matchers.HaveValue("v1"))
				})).To(MatchError(cannotRead))
			})

			It("fails Consistently in the negated form at the first failed read", func() {
				failures := InterceptGomegaFailures(func() {
					Consistently(through, 3*time.Second).ShouldNot(matchers.HaveValue("old"))
				})
				Expect(failures).To(HaveExactElements(MatchText("Failed after <N>.<N>s.\n" + cannotRead + "\n")))
			})

			It("lets Eventually read again until the member is resumed", func() {
				eventuallyAcrossResume(through, matchers.HaveValue("v1"), frozen, cannotRead)
			})
		})
	})

	It("is an error, not a mismatch, on anything but a key or an observer", func() {
		m := matchers.HaveValue("v")
		_, err := m.Match("/matchers/key")
		Expect(err).To(MatchError("HaveValue matcher expects an etcdtest.Key, a *locker.Node or another matchers.Observer (ID() string, Leader() (locker.Leader, bool)). Got:\n    <string>: /matchers/key"))
		_, err = m.Match((*etcdtest.Key)(nil))
		Expect(err).To(MatchError("HaveValue matcher expects an etcdtest.Key, a *locker.Node or another matchers.Observer (ID() string, Leader() (locker.Leader, bool)). Got:\n    <*etcdtest.Key | 0x0>: nil"))
		Expect(m.(types.OracleMatcher).MatchMayChangeInTheFuture(42)).To(BeFalse())
	})
})
