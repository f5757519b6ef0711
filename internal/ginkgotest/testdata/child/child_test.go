// Package child_test is the suite the ginkgotest specs run as a child
// process, through the Ginkgo CLI. $GINKGOTEST_MODE picks what it does;
// it reports what it saw as JSON files in $GINKGOTEST_OUT.
package child_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

var (
	mode = os.Getenv("GINKGOTEST_MODE")
	out  = os.Getenv("GINKGOTEST_OUT")
)

func TestChild(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "ginkgotest child ("+mode+")")
}

// cluster is the process's BeforeSuite cluster or, with $GINKGOTEST_PERSPEC
// set, each spec's own from PerSpec (with warm spares).
var cluster = func() *etcdtest.Cluster {
	cfg := etcdtest.Config{DataDir: os.Getenv("GINKGOTEST_DATA")}
	if os.Getenv("GINKGOTEST_PERSPEC") != "" {
		return etcdtest.PerSpec(cfg)
	}
	return etcdtest.BeforeSuite(cfg)
}()

// second-beforesuite: a BeforeSuite of the user's own beside etcdtest.BeforeSuite.
var _ = func() bool {
	if mode == "second-beforesuite" {
		return BeforeSuite(func() {})
	}
	return false
}()

// early-var: the handle used while the package initialises, before any suite runs.
var _ = func() int {
	if mode == "early-var" {
		_ = cluster.Endpoints()
	}
	return 0
}()

// record is what a process tells the parent about its cluster.
type record struct {
	Process   int      `json:"process"`
	Pid       int      `json:"pid"`
	ClusterID string   `json:"cluster_id"`
	Endpoints []string `json:"endpoints"`
	PeerURLs  []string `json:"peer_urls"`
	Dir       string   `json:"dir"`
	Members   []int    `json:"members"`
	Owner     string   `json:"owner,omitempty"`
	// Spare: the cluster's directory existed before the spec started,
	// so it was a warm spare booted in the background.
	Spare bool `json:"spare,omitempty"`
}

func newRecord() record {
	r := record{
		Process:   GinkgoParallelProcess(),
		Pid:       os.Getpid(),
		ClusterID: strconv.FormatUint(cluster.ID(), 16),
		Endpoints: cluster.Endpoints(),
		Dir:       cluster.Dir(),
	}
	for _, m := range cluster.Members() {
		r.PeerURLs = append(r.PeerURLs, m.PeerURL())
		r.Members = append(r.Members, m.Pid())
	}
	return r
}

// write puts v into $GINKGOTEST_OUT/name whole: the parent polls for it.
func write(name string, v any) {
	GinkgoHelper()
	b, err := json.Marshal(v)
	Expect(err).NotTo(HaveOccurred())
	tmp := filepath.Join(out, "."+name)
	Expect(os.WriteFile(tmp, b, 0o600)).To(Succeed())
	Expect(os.Rename(tmp, filepath.Join(out, name))).To(Succeed())
}

func process() string { return strconv.Itoa(GinkgoParallelProcess()) }

var _ = Describe("A child suite", func() {
	switch mode {
	case "early-tree":
		_ = cluster.Members() // while the spec tree is built: before the suite runs

	case "distinct":
		for i := 1; i <= 2; i++ {
			It(fmt.Sprintf("uses its own cluster (%d)", i), func(ctx SpecContext) {
				Expect(cluster.Key("/spec").Put(ctx, process())).To(Succeed())
			})
		}

	case "quiet":
		It("passes, with faults that make the members log a lot", func(ctx SpecContext) {
			Expect(cluster.Member(1).Kill()).To(Succeed())
			Expect(cluster.Member(1).Restart(ctx)).To(Succeed())
			Expect(cluster.Member(0).Key("/k").Put(ctx, "v")).To(Succeed())
		})

	case "diagnostics":
		It("passes", func(ctx SpecContext) {
			Expect(cluster.Member(0).Key("/k").Put(ctx, "v")).To(Succeed())
		})
		It("fails on purpose with node2 killed", func(ctx SpecContext) {
			Expect(cluster.Member(1).Kill()).To(Succeed())
			Expect("what the spec saw").To(Equal("a deliberate failure"))
		})

	case "hold":
		// Two specs, so that under ginkgo -p both processes hold one.
		for i := 1; i <= 2; i++ {
			It(fmt.Sprintf("holds its cluster until interrupted (%d)", i), func(ctx SpecContext) {
				if os.Getenv("GINKGOTEST_HANG_CLEANUP") != "" {
					// A cleanup that hangs, so a second interrupt arrives during cleanup.
					DeferCleanup(func(ctx SpecContext) {
						write("cleanup-"+process(), "hanging")
						<-ctx.Done()
					}, NodeTimeout(time.Minute))
				}
				write("hold-"+process(), newRecord())
				<-ctx.Done()
			})
		}

	case "perspec":
		// Six specs, each with a fresh cluster from PerSpec, each telling
		// which cluster it got.
		for i := 1; i <= 6; i++ {
			It(fmt.Sprintf("gets a fresh cluster (%d)", i), func(ctx SpecContext) {
				r := newRecord()
				owner, err := os.Stat(filepath.Join(cluster.Dir(), "owner"))
				Expect(err).NotTo(HaveOccurred())
				r.Spare = owner.ModTime().Before(CurrentSpecReport().StartTime)
				Expect(cluster.Key("/spec").Put(ctx, process())).To(Succeed())
				resp, err := cluster.Client().Get(ctx, "/spec")
				Expect(err).NotTo(HaveOccurred())
				Expect(resp.Header.Revision).To(BeEquivalentTo(2), "a fresh cluster has seen one write")
				// Slower than the spare's boot, as a spec that does real work is.
				time.Sleep(300 * time.Millisecond)
				write(fmt.Sprintf("perspec-%d", i), r)
			})
		}

	case "slow":
		It("is slow, with a member paused and cut off", func(ctx SpecContext) {
			Expect(cluster.Member(2).Pause()).To(Succeed())
			DeferCleanup(cluster.Member(2).Resume)
			Expect(cluster.Isolate(2)).To(Succeed())
			DeferCleanup(cluster.Heal)
			write("slow-"+process(), os.Getpid())
			// Long enough for two progress reports (--poll-progress-after=1s,
			// --poll-progress-interval=1s): the spec stands for one that hangs.
			time.Sleep(3 * time.Second)
		})

	case "hundred":
		// The suite BenchmarkSuite times: 100 specs, each writing and reading
		// a key, then standing for the spec's own work for
		// $GINKGOTEST_WORK (a sleep: what is measured is how the cluster
		// per spec adds to it). Without $GINKGOTEST_PERSPEC the specs share
		// the process's cluster and Reset it first.
		work, _ := time.ParseDuration(os.Getenv("GINKGOTEST_WORK"))
		if os.Getenv("GINKGOTEST_PERSPEC") == "" {
			BeforeEach(func(ctx SpecContext) { Expect(cluster.Reset(ctx)).To(Succeed()) })
		}
		for i := 1; i <= 100; i++ {
			It(fmt.Sprintf("uses a cluster (%d)", i), func(ctx SpecContext) {
				Expect(cluster.Key("/spec").Put(ctx, process())).To(Succeed())
				v, _, err := cluster.Key("/spec").Get(ctx)
				Expect(err).NotTo(HaveOccurred())
				Expect(v).To(Equal(process()))
				time.Sleep(work)
			})
		}

	case "noop":
		It("boots a cluster", func() {})
	}
})

// distinct: every process writes its own name to /owner, waits until every
// process has, and reads /owner back: a shared cluster would show another
// process's name. AfterSuite runs on every process, also one that got no spec.
var _ = AfterSuite(func(ctx SpecContext) {
	if mode != "distinct" {
		return
	}
	me := "process " + process()
	Expect(cluster.Key("/owner").Put(ctx, me)).To(Succeed())
	write("written-"+process(), me)
	suite, _ := GinkgoConfiguration()
	Eventually(func() ([]string, error) {
		return filepath.Glob(filepath.Join(out, "written-*"))
	}).WithContext(ctx).WithTimeout(time.Minute).Should(HaveLen(suite.ParallelTotal))

	r := newRecord()
	owner, _, err := cluster.Key("/owner").Get(ctx)
	Expect(err).NotTo(HaveOccurred())
	r.Owner = owner
	write("distinct-"+process(), r)
})
