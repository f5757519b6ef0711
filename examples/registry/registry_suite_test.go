// Package registry_test puts a service registry on etcd under faults: a
// registrar keeps a service's key alive under a lease, a discovery client
// follows the key with a watch, and "the service is registered" is recorded
// as a chaos.Condition next to the faults, judged by matchers.BeSafe.
package registry_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

func TestRegistry(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "registry example")
}

// One 3-member etcd cluster per Ginkgo process, stopped after the suite.
var cluster = etcdtest.BeforeSuite(etcdtest.Config{})
