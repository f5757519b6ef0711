package etcdtest_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// The version matrix. By default these specs run once, on the binary the
// suite resolves (ETCDTEST_BINARY, ETCDTEST_VERSION or the default). With
//
//	ETCDTEST_MATRIX=1
//
// they run on every supported line: Debian's etcd 3.4 at /usr/bin/etcd when
// it is installed (apt-get install etcd-server), and managed builds of the
// 3.5, 3.6 and default releases (the first build of each takes about a
// minute). ETCDTEST_MATRIX may instead list the entries, comma-separated:
// releases ("v3.5.35") or paths of etcd executables.
const envMatrix = "ETCDTEST_MATRIX"

// matrixReleases are the managed builds of the full matrix, one per line.
var matrixReleases = []string{"v3.5.35", "v3.6.16", etcdtest.DefaultVersion}

// debianEtcd is where Debian's etcd-server package installs etcd 3.4.
const debianEtcd = "/usr/bin/etcd"

// matrix returns the entries to run: releases, paths, or "" for the suite's binary.
func matrix() []string {
	switch v := os.Getenv(envMatrix); v {
	case "", "0", "false":
		return []string{""}
	case "1", "true", "all":
		var entries []string
		if fi, err := os.Stat(debianEtcd); err == nil && !fi.IsDir() {
			entries = append(entries, debianEtcd)
		}
		return append(entries, matrixReleases...)
	default:
		var entries []string
		for _, e := range strings.Split(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				entries = append(entries, e)
			}
		}
		return entries
	}
}

// configFor returns the Config that runs entry.
func configFor(entry string) etcdtest.Config {
	switch {
	case entry == "":
		return etcdtest.Config{Binary: cluster.Binary()}
	case strings.ContainsRune(entry, os.PathSeparator):
		return etcdtest.Config{Binary: entry}
	default:
		return etcdtest.Config{Version: entry}
	}
}

var _ = Describe("Supported etcd versions", func() {
	for _, entry := range matrix() {
		label := entry
		if label == "" {
			label = "the suite's etcd"
		}
		Describe(label, Ordered, func() {
			var (
				base etcdtest.Config
				c    *etcdtest.Cluster
			)
			BeforeAll(func(ctx SpecContext) {
				etcdtest.SkipIfExternal(cluster) // these specs boot clusters of their own
				base = configFor(entry)
				if base.Version != "" { // a managed build: provision it once, with room for the first build
					path, err := etcdtest.Provision(ctx, base)
					Expect(err).NotTo(HaveOccurred())
					base = etcdtest.Config{Binary: path}
				}
				c = start(base)
				AddReportEntry("etcd version", c.Version())
				fmt.Fprintf(GinkgoWriter, "%s: etcd %s (%s)\n", label, c.Version(), c.Binary())
			}, NodeTimeout(15*time.Minute))

			It("boots and reports the version it runs", func() {
				Expect(c.Version()).To(MatchRegexp(`^v3\.[4-7]\.\d+$`))
				if v := configFor(entry).Version; v != "" {
					Expect(c.Version()).To(Equal("v" + strings.TrimPrefix(v, "v")))
				}
			})

			It("passes the seed scenario: written through member 0, read through member 1", func(ctx SpecContext) {
				seedScenario(ctx, c)
			})

			It("keeps serving while a member is killed, and takes it back on Restart", func(ctx SpecContext) {
				Expect(c.Member(1).Kill()).To(Succeed())
				Expect(c.Member(1).Running()).To(BeFalse())
				putSoon(ctx, c.Member(0).Key("/while-down"), "written")
				Expect(c.Member(1).Restart(ctx)).To(Succeed())
				v, found, err := c.Member(1).Key("/while-down").Get(ctx)
				Expect(err).NotTo(HaveOccurred())
				Expect(found).To(BeTrue())
				Expect(v).To(Equal("written"))
			})

			It("elects a new raft leader when the leader is cut off, and heals", func(ctx SpecContext) {
				old, err := c.Leader(ctx)
				Expect(err).NotTo(HaveOccurred())
				i := indexOf(c, old)
				Expect(c.Isolate(i)).To(Succeed())
				DeferCleanup(c.Heal)
				other := (i + 1) % len(c.Members())
				Eventually(leaderSeenBy(c, other)).WithContext(ctx).WithTimeout(10 * time.Second).
					ShouldNot(Or(BeEmpty(), Equal(old.Name())))
				Expect(c.Heal()).To(Succeed())
				Eventually(func(ctx context.Context) error {
					_, _, err := old.Key("/while-down").Get(ctx)
					return err
				}).WithContext(ctx).WithTimeout(10 * time.Second).Should(Succeed())
			})

			It("serves the seed scenario with TLS and auth on", func(ctx SpecContext) {
				cfg := base
				cfg.TLS, cfg.Auth = true, true
				seedScenario(ctx, start(cfg))
			})
		})
	}
})

func indexOf(c *etcdtest.Cluster, m *etcdtest.Member) int {
	for i, o := range c.Members() {
		if o == m {
			return i
		}
	}
	return -1
}
