package matchers_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

var _ = Describe("HaveExactlyOneElected", func() {
	var path string
	var a, b, c *locker.Node
	var nodes []*locker.Node

	BeforeEach(func() {
		path = newPath()
		a, b, c = newNode(path, "a"), newNode(path, "b"), newNode(path, "c")
		nodes = []*locker.Node{a, b, c}
	})

	It("matches once one node is elected, and through a handover", func(ctx SpecContext) {
		Expect(nodes).NotTo(matchers.HaveExactlyOneElected())
		for _, n := range nodes {
			Expect(n.Write(ctx, "value of "+n.ID())).To(Succeed())
		}
		Eventually(nodes).Should(matchers.HaveExactlyOneElected())
		Consistently(nodes, 300*time.Millisecond).Should(matchers.HaveExactlyOneElected())

		Expect(a.Close()).To(Succeed())
		Eventually(nodes).Should(matchers.HaveExactlyOneElected())
		Expect(b).To(matchers.BeElected())
	})

	It("lists every node's view when none is elected", func(ctx SpecContext) {
		Expect(b.Write(ctx, "value of b")).To(Succeed())
		Eventually(b).Should(matchers.BeElected())
		revB := createRevision(path + "/b")
		Expect(b.Reset(ctx)).To(Succeed())
		Eventually(a).Should(matchers.HaveLeader(""))
		Eventually(c).Should(matchers.HaveLeader(""))

		m := matchers.HaveExactlyOneElected()
		Expect(m.Match(nodes)).To(BeFalse())
		Expect(m.FailureMessage(nodes)).To(MatchText(fmt.Sprintf(`Expected exactly one of 3 nodes to be elected, but none is.
node "a": not elected; leader none; not in the election
node "b": not elected; leader none; not in the election
node "c": not elected; leader none; not in the election
etcd says: no candidate keys under %[1]s/ (revision <N>)
last events of node "a":
    <TIME> changed leader="b" value="value of b" rev=%[2]d
    <TIME> changed leader="" value="" rev=0
last events of node "b":
%[3]slast events of node "c":
    <TIME> changed leader="b" value="value of b" rev=%[2]d
    <TIME> changed leader="" value="" rev=0
`, path, revB, eventLines(b, 4))))
	})

	It("names the elected node when negated", func(ctx SpecContext) {
		Expect(c.Write(ctx, "value of c")).To(Succeed())
		Eventually(c).Should(matchers.BeElected())
		revC := createRevision(path + "/c")

		m := matchers.HaveExactlyOneElected()
		Expect(m.Match(nodes)).To(BeTrue())
		Expect(m.NegatedFailureMessage(nodes)).To(HavePrefix(fmt.Sprintf(`Expected not exactly one of 3 nodes to be elected, but "c" is.
node "a": not elected; leader "c" with value "value of c", fencing token %[1]d; not in the election
node "b": not elected; leader "c" with value "value of c", fencing token %[1]d; not in the election
node "c": ELECTED; leader "c" with value "value of c", fencing token %[1]d; own value "value of c"
etcd says (keys under %[2]s/ in create-revision order, revision `, revC, path)))
	})

	It("gives up at once when every node is closed", func() {
		for _, n := range nodes {
			Expect(n.Close()).To(Succeed())
		}
		Expect(bailsOutEarly(nodes, matchers.HaveExactlyOneElected())).To(ContainSubstring(`node "a": not elected, closed;`))
	})

	It("is an error, not a mismatch, on anything but nodes", func() {
		m := matchers.HaveExactlyOneElected()
		_, err := m.Match(a)
		Expect(err).To(MatchError("HaveExactlyOneElected matcher expects a non-empty []*locker.Node, or a slice of another chaos.Elector, without nil elements. Got:\n    <*locker.Node>: locker.Node(" + path + "/a)"))
		_, err = m.Match([]*locker.Node{})
		Expect(err).To(HaveOccurred())
		_, err = m.Match([]*locker.Node{a, nil})
		Expect(err).To(MatchError("HaveExactlyOneElected matcher expects a non-empty []*locker.Node, or a slice of another chaos.Elector, without nil elements. Got:\n    <[]*locker.Node | len:2>: [<*locker.Node>: locker.Node(" + path + "/a), <*locker.Node | 0x0>: nil]"))
		Expect(m.(types.OracleMatcher).MatchMayChangeInTheFuture([]string{"a"})).To(BeFalse())
	})
})
