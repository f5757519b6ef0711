package etcdtest

import (
	"context"
	"testing"
)

// StartT starts a cluster for a plain `go test` test and stops it in
// t.Cleanup. A start error fails the test at once (t.Fatal).
func StartT(t testing.TB, cfg Config) *Cluster {
	t.Helper()
	c, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(c.Diagnostics())
		}
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	return c
}
