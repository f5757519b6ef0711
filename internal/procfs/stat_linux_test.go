package procfs_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/internal/procfs"
)

var _ = Describe("The state field of /proc/<pid>/stat", func() {
	DescribeTable("is the letter after the last ')', whatever the command name holds",
		func(stat, state string, ok bool) {
			s, found := procfs.StateOf([]byte(stat))
			Expect(found).To(Equal(ok))
			Expect(s).To(Equal(state))
		},
		Entry("a plain name", "42 (etcd) S 1 42 42 0", "S", true),
		Entry("a name with spaces", "42 (my etcd) T 1 42", "T", true),
		Entry("a name with parentheses", "42 (a) R (b)) Z 1 42", "Z", true),
		Entry("no closing parenthesis", "42 (etcd", "", false),
		Entry("nothing after the name", "42 (etcd)", "", false),
	)
})
