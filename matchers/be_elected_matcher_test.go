package matchers_test

import (
	"fmt"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/etcd-test-cluster/etcd-test-cluster/locker"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

var _ = Describe("BeElected", func() {
	var path string
	var a, b *locker.Node

	BeforeEach(func() {
		path = newPath()
		a = newNode(path, "a", "value of a")
		b = newNode(path, "b", "value of b")
	})

	It("succeeds once the node is elected, and holds while it stays so", func() {
		Eventually(a).Should(matchers.BeElected())
		Consistently(a, 300*time.Millisecond).Should(matchers.BeElected())
		Consistently(b, 300*time.Millisecond).ShouldNot(matchers.BeElected())
	})

	It("moves to the next node when the leader leaves", func(ctx SpecContext) {
		Eventually(a).Should(matchers.BeElected())
		Expect(a.Reset(ctx)).To(Succeed())
		Eventually(b).Should(matchers.BeElected())
		Expect(a).NotTo(matchers.BeElected())
	})

	It("says what the node sees, what etcd says and what happened to it", func() {
		Eventually(a).Should(matchers.BeElected())
		revA, revB := createRevision(path+"/a"), createRevision(path+"/b")

		m := matchers.BeElected()
		Expect(m.Match(b)).To(BeFalse())
		Expect(m.FailureMessage(b)).To(MatchText(fmt.Sprintf(`Expected node "b" on %[1]s to be elected, but it is not.
node "b" sees:
    elected: no
    leader:  "a" with value "value of a", fencing token %[2]d
    own:     in the election with value "value of b"
etcd says (keys under %[1]s/ in create-revision order, revision <N>):
    %[1]s/a = "value of a" (create revision %[2]d, lease <HEX>)
    %[1]s/b = "value of b" (create revision %[3]d, lease <HEX>)
last events of node "b":
    <TIME> changed leader="a" value="value of a" rev=%[2]d
    <TIME> joined leader="b" value="value of b" rev=%[3]d
`, path, revA, revB)))

		Expect(m.Match(a)).To(BeTrue())
		Expect(m.NegatedFailureMessage(a)).To(MatchText(fmt.Sprintf(`Expected node "a" on %[1]s not to be elected, but it is.
node "a" sees:
    elected: yes
    leader:  "a" with value "value of a", fencing token %[2]d
    own:     in the election with value "value of a"
etcd says (keys under %[1]s/ in create-revision order, revision <N>):
    %[1]s/a = "value of a" (create revision %[2]d, lease <HEX>)
    %[1]s/b = "value of b" (create revision %[3]d, lease <HEX>)
last events of node "a":
%[4]s`, path, revA, revB, eventLines(a, 8))))
	})

	It("gives up at once on a closed node, and says it is closed", func() {
		Expect(a.Close()).To(Succeed())
		m := matchers.BeElected()
		Expect(m.Match(a)).To(BeFalse())
		Expect(m.FailureMessage(a)).To(HavePrefix(fmt.Sprintf("Expected node \"a\" on %s to be elected, but it is closed.\nnode \"a\" sees:\n    closed:  yes (it will not change any more)\n    elected: no\n", path)))
		Expect(m.FailureMessage(a)).To(ContainSubstring("closed leader=\"a\""), "the timeline ends with the close")

		Expect(bailsOutEarly(a, matchers.BeElected())).To(ContainSubstring("it is closed"))
		Expect(m.(types.OracleMatcher).MatchMayChangeInTheFuture(b)).To(BeTrue(), "an open node may still be elected")
	})

	It("is an error, not a mismatch, on anything but a node", func() {
		m := matchers.BeElected()
		_, err := m.Match("a")
		Expect(err).To(MatchError("BeElected matcher expects a *locker.Node or another chaos.Elector (ID() string, Elected() bool). Got:\n    <string>: a"))
		_, err = m.Match((*locker.Node)(nil))
		Expect(err).To(MatchError("BeElected matcher expects a *locker.Node or another chaos.Elector (ID() string, Elected() bool). Got:\n    <*locker.Node | 0x0>: nil"))
		_, err = m.Match(cluster)
		Expect(err).To(MatchError(MatchRegexp(`^BeElected matcher expects a \*locker.Node or another chaos.Elector \(ID\(\) string, Elected\(\) bool\). Got:\n    <\*etcdtest.Cluster \| 0x[0-9a-f]+>$`)))
		Expect(m.(types.OracleMatcher).MatchMayChangeInTheFuture("a")).To(BeFalse())
	})

	It("is safe to use from several goroutines at once", func() {
		Eventually(a).Should(matchers.BeElected())
		m := matchers.BeElected()
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				n := []*locker.Node{a, b}[i%2]
				for range 20 {
					ok, err := m.Match(n)
					Expect(err).NotTo(HaveOccurred())
					if ok {
						Expect(m.NegatedFailureMessage(n)).To(ContainSubstring("sees:"))
					} else {
						Expect(m.FailureMessage(n)).To(ContainSubstring("sees:"))
					}
				}
			}()
		}
		wg.Wait()
	})
})
