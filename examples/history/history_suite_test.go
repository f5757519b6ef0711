// Package history_test checks the history of a small piece of user code — a
// config store with a counter (store_test.go) — under a seeded fault
// schedule: three simulated processes use the store, each through a client
// from chaos.History.Client, while chaos.Run cuts members off; then
// matchers.BeLinearizable checks what every call returned. The correct
// store passes; the one that reads serializably is caught at the KV level,
// and the one that increments without a compare-and-swap by a model of its
// own operations (History.API with chaos.Counter). Run it with
//
//	go test ./examples/history -v
package history_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

func TestHistory(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "history example")
}

// One 3-member etcd cluster per Ginkgo process, stopped after the suite.
var cluster = etcdtest.BeforeSuite(etcdtest.Config{})
