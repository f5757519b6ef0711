// Package chaos_test puts locker under a random, seeded sequence of real
// faults on a real etcd cluster and checks the election's safety and
// liveness throughout. Short by default (about 20 s); for a long run:
//
//	CHAOS_DURATION=10m go test ./chaos -timeout 0 -v
//	CHAOS_SEED=1234 go test ./chaos -v   # replay a failing run
//	CHAOS_FAULTS=pause go test ./chaos -v # one kind of fault alone (names as in chaos.AllFaults())
package chaos_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

func TestChaos(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "chaos")
}

var cluster = etcdtest.BeforeSuite(etcdtest.Config{})
