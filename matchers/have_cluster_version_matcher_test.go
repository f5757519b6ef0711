package matchers_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

var _ = Describe("HaveClusterVersion", func() {
	// The cluster version of the suite's etcd: "3.7.0" for v3.7.3.
	var want string
	BeforeEach(func() {
		etcdtest.SkipIfExternal(cluster)
		parts := strings.SplitN(strings.TrimPrefix(cluster.Version(), "v"), ".", 3)
		want = parts[0] + "." + parts[1] + ".0"
	})

	It("matches the version etcd runs the cluster at, as major.minor or in full, or by matcher", func() {
		Expect(cluster).To(matchers.HaveClusterVersion(want))
		Expect(cluster).To(matchers.HaveClusterVersion(strings.TrimSuffix(want, ".0")))
		Expect(cluster).To(matchers.HaveClusterVersion(HavePrefix("3.")))
		Expect(cluster).NotTo(matchers.HaveClusterVersion("2.3"))
	})

	It("says which version it found", func() {
		m := matchers.HaveClusterVersion("2.3")
		Expect(m.Match(cluster)).To(BeFalse())
		Expect(m.FailureMessage(cluster)).To(Equal("The cluster version:\nExpected\n    <string>: " + want + "\nto equal\n    <string>: 2.3.0"))
	})

	It("is an error when no member runs, and on anything but a cluster", func() {
		pause(cluster.Member(0))
		pause(cluster.Member(1))
		pause(cluster.Member(2))
		_, err := matchers.HaveClusterVersion("3.7").Match(cluster)
		Expect(err).To(MatchError(ContainSubstring("matchers.HaveClusterVersion: cannot read the cluster version of etcd cluster (node1, node2, node3): ")))
		Expect(err).To(MatchError(ContainSubstring("no member is running")))
		_, err = matchers.HaveClusterVersion("3.7").Match(cluster.Member(0))
		Expect(err).To(MatchError("HaveClusterVersion matcher expects a *etcdtest.Cluster. Got:\n    <*etcdtest.Member>: node1"))
	})
})
