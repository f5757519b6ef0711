package etcdtest

import (
	"testing"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/provision"
)

// The names users read in etcdtest are the ones internal/provision acts on.
func TestProvisionNamesAgreeWithTheLibrary(t *testing.T) {
	for _, tc := range []struct{ name, here, there string }{
		{"EnvBinary", EnvBinary, provision.EnvBinary},
		{"EnvVersion", EnvVersion, provision.EnvVersion},
		{"DefaultVersion", DefaultVersion, provision.DefaultVersion},
	} {
		if tc.here != tc.there {
			t.Errorf("etcdtest.%s is %q, but internal/provision uses %q", tc.name, tc.here, tc.there)
		}
	}
}
