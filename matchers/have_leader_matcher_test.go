package matchers_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

var _ = Describe("HaveLeader", func() {
	var path string
	var a, b *locker.Node

	BeforeEach(func() {
		path = newPath()
		a = newNode(path, "a", "value of a")
		b = newNode(path, "b", "value of b")
	})

	It("follows the leader each node sees, \"\" meaning none", func(ctx SpecContext) {
		Eventually(b).Should(matchers.HaveLeader("a"))
		Expect(a).To(matchers.HaveLeader("a"))

		Expect(a.Reset(ctx)).To(Succeed())
		Eventually(a).Should(matchers.HaveLeader("b"))
		Consistently(b, 200*time.Millisecond).Should(matchers.HaveLeader(Not(Equal("a"))))

		Expect(b.Reset(ctx)).To(Succeed())
		Eventually(a).Should(matchers.HaveLeader(""))
		Eventually(b).Should(matchers.HaveLeader(BeEmpty()))
	})

	It("says which leader the node sees instead", func() {
		Eventually(b).Should(matchers.HaveLeader("a"))
		revA := createRevision(path + "/a")

		m := matchers.HaveLeader("b")
		Expect(m.Match(b)).To(BeFalse())
		Expect(m.FailureMessage(b)).To(HavePrefix(fmt.Sprintf(`The leader's ID as node "b" on %[1]s sees it ("" for none):
Expected
    <string>: a
to equal
    <string>: b
node "b" sees:
    elected: no
    leader:  "a" with value "value of a", fencing token %[2]d
    own:     in the election with value "value of b"
etcd says (keys under %[1]s/ in create-revision order, revision `, path, revA)))
		Expect(m.FailureMessage(b)).To(HaveSuffix("last events of node \"b\":\n" + eventLines(b, 8)))

		m = matchers.HaveLeader("a")
		Expect(m.Match(b)).To(BeTrue())
		Expect(m.NegatedFailureMessage(b)).To(HavePrefix(fmt.Sprintf("The leader's ID as node \"b\" on %s sees it (\"\" for none):\nExpected\n    <string>: a\nnot to equal\n    <string>: a\nnode \"b\" sees:\n", path)))
	})

	It("gives up at once on a closed node", func() {
		Expect(b.Close()).To(Succeed())
		bailsOutEarly(b, matchers.HaveLeader("b"))
	})

	It("is an error, not a mismatch, on anything but an observer", func() {
		_, err := matchers.HaveLeader("a").Match(cluster.Key("/x"))
		Expect(err).To(MatchError("HaveLeader matcher expects a *locker.Node or another matchers.Observer (ID() string, Leader() (locker.Leader, bool)). Got:\n    <etcdtest.Key>: /x via cluster"))
		_, err = matchers.HaveLeader("a").Match(&flagElector{id: "no leader method"})
		Expect(err).To(MatchError(HavePrefix("HaveLeader matcher expects a *locker.Node or another matchers.Observer")))
	})
})
