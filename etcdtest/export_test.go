package etcdtest

import (
	"os"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proc"
)

// With ETCDTEST_TEST_LSOF=1 the peer proxies tell who opened a connection
// the way they do where there is no /proc (macOS): through lsof.
func init() {
	if os.Getenv("ETCDTEST_TEST_LSOF") == "1" {
		connOwner = proc.ConnOwnerByLsof
	}
}

// SpareCount is the number of warm spares, booting or ready.
func SpareCount() int { return spares.Count() }

// PretendOS makes Start decide about local clusters as on goos, until the
// returned restore is called.
func PretendOS(goos string) (restore func()) {
	was := localOS
	localOS = goos
	return func() { localOS = was }
}
