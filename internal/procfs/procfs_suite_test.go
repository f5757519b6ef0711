package procfs_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestProcfs(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "procfs")
}
