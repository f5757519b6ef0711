package etcdtest

import (
	"context"
	"testing"
	"time"
)

// BenchmarkSecureStart measures a 3-member boot with TLS, auth and both,
// next to BenchmarkStart's plain one. With TLS the peer proxy terminates
// TLS (tls.go) so bootstrap probes are still answered at once; auth adds
// the root user, auth enable and one login per client. Run with:
//
//	go test ./etcdtest -run '^$' -bench '^Benchmark(Start|SecureStart)$' -benchtime 20x
//
// and ETCDTEST_BINARY or ETCDTEST_VERSION to measure another etcd.
func BenchmarkSecureStart(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  Config
	}{
		{"tls", Config{TLS: true}},
		{"auth", Config{Auth: true}},
		{"tls+auth", Config{TLS: true, Auth: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if _, err := Provision(context.Background(), bc.cfg); err != nil {
				b.Fatal(err)
			}
			var starts, stops []time.Duration
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				c, err := Start(context.Background(), bc.cfg)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := c.Stop(context.Background()); err != nil {
					b.Fatal(err)
				}
				starts = append(starts, t1.Sub(t0))
				stops = append(stops, time.Since(t1))
			}
			report(b, "start", starts)
			report(b, "stop", stops)
		})
	}
}
