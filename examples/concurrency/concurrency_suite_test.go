package concurrency_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

func TestConcurrency(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "concurrency example")
}

// One 3-member etcd cluster per Ginkgo process, stopped after the suite.
var cluster = etcdtest.BeforeSuite(etcdtest.Config{})
