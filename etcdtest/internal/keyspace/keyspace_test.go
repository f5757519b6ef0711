package keyspace

import (
	"context"
	"strings"
	"testing"
)

// The claim and the sweep run against a real external cluster in
// etcdtest's external specs ("sweeps the keys of a process that died
// without Stop"); here, what is decided before etcd is asked.

func TestPrefixIsBaseRunSlash(t *testing.T) {
	c := &Claim{base: "etcdtest/", run: "host-1-ab"}
	if got := c.Prefix(); got != "etcdtest/host-1-ab/" {
		t.Errorf("Prefix() = %q", got)
	}
}

// A run name with a '/' would put its keys inside another run's prefix,
// and the sweep would skip its record: refused before any request.
func TestTakeRefusesRunNamesThatEscapeTheirPrefix(t *testing.T) {
	for _, run := range []string{"", "a/b", "/"} {
		_, err := Take(context.Background(), nil, "etcdtest/", run) // nil client: must fail before using it
		if err == nil || !strings.Contains(err.Error(), "hold no '/'") {
			t.Errorf("Take(run %q) = %v, want the run name refused", run, err)
		}
	}
}

func TestANilClaimReleasesAndStopsNothing(t *testing.T) {
	var c *Claim
	c.Stop()
	if err := c.Release(context.Background(), nil); err != nil {
		t.Errorf("Release on a nil Claim: %v", err)
	}
}
