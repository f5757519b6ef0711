//go:build unix

package ginkgotest_test

import (
	"fmt"

	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// BenchmarkSuite times a whole 100-spec suite (testdata/child, mode
// "hundred") under ginkgo -p --procs=2, in the same run for each shape:
//
//	shared: one cluster per process (BeforeSuite), Reset before each spec
//	fresh:  a cluster per spec (PerSpec) with $ETCDTEST_SPARES=0
//	spares: a cluster per spec (PerSpec) with warm spares
//
// and for specs whose own work takes 0, 200 and 500 ms. It reports each shape's
// wall time and its ratio to shared. Run with:
//
//	go test ./internal/ginkgotest -run '^$' -bench Suite -benchtime 1x
func BenchmarkSuite(b *testing.B) {
	dir := b.TempDir()
	child, ginkgo := filepath.Join(dir, "child.test"), filepath.Join(dir, "ginkgo")
	for _, args := range [][]string{{"test", "-c", "-o", child, "./testdata/child"}, {"build", "-o", ginkgo, "github.com/onsi/ginkgo/v2/ginkgo"}} {
		if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
			b.Fatalf("go %v: %v\n%s", args, err, out)
		}
	}
	etcd, err := etcdtest.Provision(b.Context(), etcdtest.Config{})
	if err != nil {
		b.Fatal(err)
	}
	shapes := []struct {
		name string
		env  []string
	}{
		{"shared", nil},
		{"fresh", []string{"GINKGOTEST_PERSPEC=1", etcdtest.EnvSpares + "=0"}},
		{"spares", []string{"GINKGOTEST_PERSPEC=1"}},
	}
	for _, work := range []time.Duration{0, 200 * time.Millisecond, 500 * time.Millisecond} {
		b.Run(fmt.Sprintf("work=%v", work), func(b *testing.B) {
			walls := map[string]time.Duration{}
			for range b.N {
				for _, s := range shapes {
					cmd := exec.Command(ginkgo, "--no-color", "--succinct", "-p", "--procs=2", child)
					cmd.Dir = b.TempDir()
					cmd.Env = append(childEnv(), append(s.env,
						"GINKGOTEST_MODE=hundred", "GINKGOTEST_OUT="+cmd.Dir, "GINKGOTEST_WORK="+work.String(),
						etcdtest.EnvBinary+"="+etcd)...)
					t0 := time.Now()
					if out, err := cmd.CombinedOutput(); err != nil {
						b.Fatalf("%s: %v\n%s", s.name, err, out)
					}
					walls[s.name] += time.Since(t0)
				}
			}
			for _, s := range shapes {
				b.ReportMetric(walls[s.name].Seconds()/float64(b.N), s.name+"-s")
				if s.name != "shared" {
					b.ReportMetric(float64(walls[s.name])/float64(walls["shared"]), s.name+"/shared")
				}
			}
		})
	}
}
