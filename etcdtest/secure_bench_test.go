package etcdtest

import (
	"testing"
)

// BenchmarkSecureStart measures a 3-member boot with TLS, auth and both,
// next to BenchmarkStart's plain one. With TLS the peer proxy terminates
// TLS (peerpolicy.go) so bootstrap probes are still answered at once; auth adds
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
		b.Run(bc.name, func(b *testing.B) { benchStartStop(b, bc.cfg) })
	}
}
