package etcdtest

import (
	"context"
)

// TestingT is what StartT needs of a test. *testing.T, *testing.B,
// testing.TB and Ginkgo's GinkgoT() all satisfy it, so StartT serves a
// plain `go test` test and a library that takes a testing.T-like value
// inside a Ginkgo spec alike.
type TestingT interface {
	Helper()
	Cleanup(func())
	Fatal(args ...any)
	Error(args ...any)
	Log(args ...any)
	Failed() bool
}

// StartT starts a cluster for a plain `go test` test and stops it in
// t.Cleanup. A start error fails the test at once (t.Fatal).
func StartT(t TestingT, cfg Config) *Cluster {
	t.Helper()
	c, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
		return nil // a TestingT whose Fatal returns
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
