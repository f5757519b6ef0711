package matchers_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

var _ = Describe("BeConsistent", func() {
	It("matches a cluster after writes and a compaction: equal hashes at one revision, and says so when negated", func(ctx SpecContext) {
		var compactAt int64
		for i := range 20 {
			resp, err := cluster.Client().Put(ctx, fmt.Sprintf("/consistent/%d", i%5), fmt.Sprint(i))
			Expect(err).NotTo(HaveOccurred())
			if i == 9 {
				compactAt = resp.Header.Revision
			}
		}
		_, err := cluster.Client().Compact(ctx, compactAt)
		Expect(err).NotTo(HaveOccurred())
		_, err = cluster.Client().Delete(ctx, "/consistent/0")
		Expect(err).NotTo(HaveOccurred())

		m := matchers.BeConsistent()
		Expect(m.Match(cluster)).To(BeTrue())
		line := `at revision <N>: hash <N> (hash revision <N>, compact revision ` + fmt.Sprint(compactAt) + `)`
		Expect(m.NegatedFailureMessage(cluster)).To(MatchText(`Expected etcd cluster (node1, node2, node3) not to be consistent, but the KV hashes of its voting members at revision <N> are equal:
    node1 ` + line + `
    node2 ` + line + `
    node3 ` + line + `
`))
		Expect(cluster).To(matchers.BeConsistent())
	})

	It("leaves out a killed member and names it, while the others still agree", func(ctx SpecContext) {
		writeSome(ctx, "/consistent/killed", 5)
		down := cluster.Member(2)
		Expect(down.Kill()).To(Succeed())
		writeSome(ctx, "/consistent/killed", 5)

		m := matchers.BeConsistent()
		Expect(m.Match(cluster)).To(BeTrue())
		Expect(m.NegatedFailureMessage(cluster)).To(MatchText(`Expected etcd cluster (node1, node2, node3) not to be consistent, but the KV hashes of its voting members at revision <N> are equal:
    node1 at revision <N>: hash <N> (hash revision <N>, compact revision <ANY>)
    node2 at revision <N>: hash <N> (hash revision <N>, compact revision <ANY>)
    not compared: node3 (killed)
`))
		By("and compares it again once it is back, with what it missed")
		Expect(down.Restart(ctx)).To(Succeed())
		Expect(m.Match(cluster)).To(BeTrue())
		Expect(m.NegatedFailureMessage(cluster)).To(ContainSubstring("\n    node3 at revision "))
		Expect(m.NegatedFailureMessage(cluster)).NotTo(ContainSubstring("not compared"))
	})

	It("compares a member cut off by a partition at the revision it has, not one it cannot have", func(ctx SpecContext) {
		cut := follower(ctx)
		resp, err := cluster.Client().Put(ctx, "/consistent/cut", "before")
		Expect(err).NotTo(HaveOccurred())
		before := resp.Header.Revision
		Eventually(func() (int64, error) { return revisionOf(ctx, cut) }).Should(Equal(before), "the follower applies the write before it is cut off")
		Expect(cluster.Isolate(slices.Index(cluster.Members(), cut))).To(Succeed())
		writeSome(ctx, "/consistent/cut", 3)

		m := matchers.BeConsistent()
		Expect(m.Match(cluster)).To(BeTrue())
		msg := m.NegatedFailureMessage(cluster)
		Expect(msg).To(HavePrefix(fmt.Sprintf("Expected etcd cluster (node1, node2, node3) not to be consistent, but the KV hashes of its voting members at revision %d are equal:\n", before)))
		Expect(msg).To(ContainSubstring(fmt.Sprintf("\n    %s at revision %d: hash ", cut.Name(), before)))
		leader, err := cluster.Leader(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(msg).To(ContainSubstring(fmt.Sprintf("\n    %s at revision %d: hash ", leader.Name(), before+3)), "the majority went on without it")
		Expect(strings.Count(msg, fmt.Sprintf("(hash revision %d, ", before))).To(Equal(3), "every member is hashed at the cut-off member's revision")
	})

	It("is an error while a member cut off by a partition lags behind a compaction, and matches once it is healed", func(ctx SpecContext) {
		cut := follower(ctx)
		resp, err := cluster.Client().Put(ctx, "/consistent/lag", "before")
		Expect(err).NotTo(HaveOccurred())
		before := resp.Header.Revision
		Eventually(func() (int64, error) { return revisionOf(ctx, cut) }).Should(Equal(before), "the follower applies the write before it is cut off")
		Expect(cluster.Isolate(slices.Index(cluster.Members(), cut))).To(Succeed())
		resp, err = cluster.Client().Put(ctx, "/consistent/lag", "after")
		Expect(err).NotTo(HaveOccurred())
		_, err = cluster.Client().Compact(ctx, resp.Header.Revision)
		Expect(err).NotTo(HaveOccurred())

		_, err = matchers.BeConsistent().Match(cluster)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(MatchText(fmt.Sprintf("matchers.BeConsistent: cannot read the KV hash of node<N> at revision %d: "+
			"etcdserver: mvcc: required revision has been compacted (%s is at revision %d, behind this compaction: heal or restart it so that it catches up)",
			before, cut.Name(), before)))

		Expect(cluster.Heal()).To(Succeed())
		Eventually(cluster).Should(matchers.BeConsistent())
	})

	It("fails on a member whose data differs, naming it, its hash and the revision", func(ctx SpecContext) {
		c, err := etcdtest.Start(ctx, etcdtest.Config{Name: "diverged"})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(c.Stop, context.Background())
		for range 3 {
			_, err := c.Client().Put(ctx, "/canary", "value-AAAAAAAA")
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(c).To(matchers.BeConsistent())

		By("flipping one byte of a stored value on one member's disk, as a failing disk would")
		leader, err := c.Leader(ctx)
		Expect(err).NotTo(HaveOccurred())
		damaged := c.Member(0)
		if damaged == leader {
			damaged = c.Member(1)
		}
		Expect(damaged.Stop(ctx)).To(Succeed())
		rewrite(filepath.Join(damaged.DataDir(), "member", "snap", "db"), "value-AAAAAAAA", "value-BAAAAAAA")
		Expect(damaged.Restart(ctx)).To(Succeed())
		got, err := damaged.Client().Get(ctx, "/canary")
		Expect(err).NotTo(HaveOccurred())
		Expect(string(got.Kvs[0].Value)).To(Equal("value-BAAAAAAA"), "the member serves the damaged value: a real divergence")

		m := matchers.BeConsistent()
		Expect(m.Match(c)).To(BeFalse())
		Expect(m.FailureMessage(c)).To(MatchText(`Expected etcd cluster (diverged1, diverged2, diverged3) to be consistent, but the KV hashes of its voting members at revision 4 differ:
    diverged1 at revision 4: hash <N> (hash revision 4, compact revision none)
    diverged2 at revision 4: hash <N> (hash revision 4, compact revision none)
    diverged3 at revision 4: hash <N> (hash revision 4, compact revision none)
    equal answers: ` + groupsText(c.Members(), damaged) + `
`))
		Expect(m.(types.OracleMatcher).MatchMayChangeInTheFuture(c)).To(BeTrue())
	})

	It("is an error naming a paused member, in both forms, and Eventually matches once it is resumed", func(ctx SpecContext) {
		frozen := follower(ctx)
		pause(frozen)
		cannot := "matchers.BeConsistent: cannot read the KV hash of " + frozen.Name() + ": it is paused: Resume it first (or Kill it to leave it out)"

		_, err := matchers.BeConsistent().Match(cluster)
		Expect(err).To(MatchError(cannot))
		Expect(InterceptGomegaFailure(func() { Expect(cluster).NotTo(matchers.BeConsistent()) })).To(MatchError(ContainSubstring(cannot)))
		eventuallyAcrossResume(cluster, matchers.BeConsistent(), frozen, cannot)
	})

	It("leaves out a learner, and is an error when no voting member runs", func(ctx SpecContext) {
		c, err := etcdtest.Start(ctx, etcdtest.Config{Size: 1, Name: "learn"})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(c.Stop, context.Background())
		learner, err := c.AddMember(ctx, etcdtest.AsLearner())
		Expect(err).NotTo(HaveOccurred())

		m := matchers.BeConsistent()
		Expect(m.Match(c)).To(BeTrue())
		Expect(m.NegatedFailureMessage(c)).To(MatchText(`Expected etcd cluster (learn1, ` + learner.Name() + `) not to be consistent, but the KV hashes of its voting members at revision <N> are equal:
    learn1 at revision <N>: hash <N> (hash revision <N>, compact revision none)
    not compared: ` + learner.Name() + ` (a learner)
`))

		Expect(c.Member(0).Kill()).To(Succeed())
		_, err = m.Match(c)
		Expect(err).To(MatchError("matchers.BeConsistent: cannot read the KV hashes of etcd cluster (learn1, " + learner.Name() +
			"): no running voting member to compare (learn1 (killed), " + learner.Name() + " (a learner))"))

		By("and gives up at once on a stopped cluster")
		Expect(c.Stop(ctx)).To(Succeed())
		Expect(bailsOutEarly(c, matchers.BeConsistent())).To(MatchText("No future change is possible.  Bailing out early after <N>.<N>s.\n" +
			"matchers.BeConsistent: cannot read the KV hashes of etcd cluster (learn1, " + learner.Name() + "): the cluster is stopped\n"))
	})

	It("checks an external cluster ($ETCDTEST_ENDPOINTS) over every member etcd lists", func(ctx SpecContext) {
		writeSome(ctx, "/consistent/external", 3)
		Expect(os.Setenv(etcdtest.EnvEndpoints, strings.Join(cluster.Endpoints(), ","))).To(Succeed())
		ext, err := etcdtest.Start(ctx, etcdtest.Config{})
		Expect(os.Unsetenv(etcdtest.EnvEndpoints)).To(Succeed())
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(ext.Stop, context.Background())
		Expect(ext.External()).To(BeTrue())

		m := matchers.BeConsistent()
		Expect(m.Match(ext)).To(BeTrue())
		line := `at revision <N>: hash <N> (hash revision <N>, compact revision <ANY>)`
		Expect(m.NegatedFailureMessage(ext)).To(MatchText(`Expected etcd cluster (node1, node2, node3) not to be consistent, but the KV hashes of its voting members at revision <N> are equal:
    node1 ` + line + `
    node2 ` + line + `
    node3 ` + line + `
`))
	})

	It("is an error, not a mismatch, on anything but a cluster", func() {
		m := matchers.BeConsistent()
		_, err := m.Match("node1")
		Expect(err).To(MatchError("BeConsistent matcher expects a *etcdtest.Cluster. Got:\n    <string>: node1"))
		_, err = m.Match((*etcdtest.Cluster)(nil))
		Expect(err).To(HaveOccurred())
		_, err = m.Match(cluster.Member(0))
		Expect(err).To(MatchError(HavePrefix("BeConsistent matcher expects a *etcdtest.Cluster. Got:\n    <*etcdtest.Member>: node1")))
		Expect(m.(types.OracleMatcher).MatchMayChangeInTheFuture("node1")).To(BeFalse())
		Expect(m.(types.OracleMatcher).MatchMayChangeInTheFuture(cluster)).To(BeTrue())
	})
})

// writeSome puts n values under prefix through the cluster's client.
func writeSome(ctx context.Context, prefix string, n int) {
	GinkgoHelper()
	for i := range n {
		_, err := cluster.Client().Put(ctx, fmt.Sprintf("%s/%d", prefix, i), "v")
		Expect(err).NotTo(HaveOccurred())
	}
}

// revisionOf is the revision member m has applied, from its own status.
func revisionOf(ctx context.Context, m *etcdtest.Member) (int64, error) {
	st, err := m.Status(ctx)
	if err != nil {
		return 0, err
	}
	return st.Header.Revision, nil
}

// rewrite replaces every old in the file with new, of the same length: a
// stopped member's bbolt file keeps values in place, without checksums.
func rewrite(path, old, new string) {
	GinkgoHelper()
	Expect(len(old)).To(Equal(len(new)))
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	Expect(bytes.Count(b, []byte(old))).To(BeNumerically(">", 0), "the value is in %s", path)
	Expect(os.WriteFile(path, bytes.ReplaceAll(b, []byte(old), []byte(new)), 0o600)).To(Succeed())
}

// groupsText is how the failure message groups members by equal answers
// when one member differs: the others in order, then it (or it first, if
// it comes first).
func groupsText(members []*etcdtest.Member, odd *etcdtest.Member) string {
	var rest []string
	for _, m := range members {
		if m != odd {
			rest = append(rest, m.Name())
		}
	}
	others := "{" + strings.Join(rest, " ") + "}"
	if members[0] == odd {
		return "{" + odd.Name() + "} | " + others
	}
	return others + " | {" + odd.Name() + "}"
}
