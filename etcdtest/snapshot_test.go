package etcdtest_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/matchers"
)

// canRestore says why the suite's etcd cannot boot from a snapshot, or ""
// when it can: etcd 3.4 restores with the etcdctl next to its binary.
func canRestore(c *etcdtest.Cluster) string {
	if strings.HasPrefix(c.Version(), "v3.4.") && !fileExists(filepath.Join(filepath.Dir(c.Binary()), "etcdctl")) {
		return "etcd 3.4 restores snapshots with etcdctl 3.4, and none is installed next to " + c.Binary() + " (Debian: apt-get install etcd-client)"
	}
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

var _ = Describe("Snapshots", Ordered, func() {
	var (
		src  *etcdtest.Cluster
		dir  string // where snapshot files go
		file string // a snapshot of src holding /k0../k99 and /config
	)
	BeforeAll(func(ctx SpecContext) {
		etcdtest.SkipIfExternal(cluster)
		src = etcdtest.Launch(etcdtest.Config{Binary: binary})
		dir = GinkgoT().TempDir()
		for i := range 100 {
			Expect(src.Key("/k"+strconv.Itoa(i)).Put(ctx, "v"+strconv.Itoa(i))).To(Succeed())
		}
		Expect(src.Key("/config").Put(ctx, "prepared")).To(Succeed())
		file = filepath.Join(dir, "prepared.db")
		Expect(src.Member(1).Snapshot(ctx, file)).To(Succeed())
	}, NodeTimeout(time.Minute))

	It("saves a member's snapshot atomically, readable by its owner only", func(ctx SpecContext) {
		fi, err := os.Stat(file)
		Expect(err).NotTo(HaveOccurred())
		Expect(fi.Mode().Perm()).To(Equal(os.FileMode(0o600)))
		Expect(fi.Size()).To(BeNumerically(">", 0))
		left, _ := filepath.Glob(filepath.Join(dir, ".*part*"))
		Expect(left).To(BeEmpty(), "no temporary file is left next to it")
	}, SpecTimeout(10*time.Second))

	It("leaves no file, not even a partial one, when the context ends first", func(ctx SpecContext) {
		empty := GinkgoT().TempDir()
		done, cancel := context.WithCancel(ctx)
		cancel()
		err := src.Member(0).Snapshot(done, filepath.Join(empty, "cut.db"))
		Expect(err).To(MatchError(ContainSubstring("snapshot of member node1 to " + filepath.Join(empty, "cut.db"))))
		Expect(os.ReadDir(empty)).To(BeEmpty())
	}, SpecTimeout(10*time.Second))

	It("refuses a paused member at once", func(ctx SpecContext) {
		m := src.Member(2)
		Expect(m.Pause()).To(Succeed())
		DeferCleanup(m.Resume)
		began := time.Now()
		Expect(m.Snapshot(ctx, filepath.Join(dir, "paused.db"))).To(MatchError(And(
			ContainSubstring("snapshot of member node3: it is paused"), ContainSubstring("Resume or Restart it first"))))
		Expect(time.Since(began)).To(BeNumerically("<", 100*time.Millisecond))
		Expect(filepath.Join(dir, "paused.db")).NotTo(BeAnExistingFile())
	}, SpecTimeout(30*time.Second))

	Context("booting from a snapshot (Config.Snapshot)", func() {
		BeforeEach(func() {
			if why := canRestore(src); why != "" {
				Skip(why)
			}
		})

		It("boots a new cluster holding the snapshot's keys, with its own members and cluster ID", func(ctx SpecContext) {
			c := start(etcdtest.Config{Snapshot: file, Name: "restored"})
			Expect(c.ID()).NotTo(Equal(src.ID()), "a fresh cluster token, so a fresh cluster ID")
			for i := range c.Members() {
				Expect(c.Member(i).Key("/config")).To(matchers.HaveValue("prepared"), "read through %s", c.Member(i).Name())
				Expect(c.Member(i).Key("/k99")).To(matchers.HaveValue("v99"))
			}
			resp, err := c.Client().MemberList(ctx)
			Expect(err).NotTo(HaveOccurred())
			var names []string
			for _, m := range resp.Members {
				names = append(names, m.Name)
				Expect(c.MemberByID(m.ID)).NotTo(BeNil(), "member %s's ID is the one this cluster derives", m.Name)
			}
			Expect(names).To(ConsistOf("restored1", "restored2", "restored3"))
			Expect(c.Key("/config").Put(ctx, "changed")).To(Succeed())
			Expect(src.Key("/config")).To(matchers.HaveValue("prepared"), "the clusters share nothing")
		}, SpecTimeout(time.Minute))

		It("boots a cluster of another size, and keeps its faults and operations working", func(ctx SpecContext) {
			c := start(etcdtest.Config{Snapshot: file, Size: 1})
			Expect(c.Member(0).Key("/k7")).To(matchers.HaveValue("v7"))
			Expect(c.Member(0).Restart(ctx)).To(Succeed())
			Expect(c.Member(0).Key("/k7")).To(matchers.HaveValue("v7"))

			five := start(etcdtest.Config{Snapshot: file, Size: 5})
			Expect(five.MoveLeader(ctx, five.Member(4))).To(Succeed())
			Expect(five.Member(4).Kill()).To(Succeed())
			Expect(five.Member(0).Key("/k42")).To(matchers.HaveValue("v42"))
		}, SpecTimeout(time.Minute))

		It("boots from a snapshot of a restored cluster", func(ctx SpecContext) {
			c := start(etcdtest.Config{Snapshot: file})
			Expect(c.Key("/second").Put(ctx, "generation")).To(Succeed())
			again := filepath.Join(GinkgoT().TempDir(), "again.db")
			Expect(c.Member(0).Snapshot(ctx, again)).To(Succeed())
			d := start(etcdtest.Config{Snapshot: again})
			Expect(d.Key("/second")).To(matchers.HaveValue("generation"))
			Expect(d.Key("/config")).To(matchers.HaveValue("prepared"))
		}, SpecTimeout(time.Minute))
	})

	Context("a bad snapshot file: Start names the file and the fix, and leaves nothing behind", func() {
		var parent string
		BeforeEach(func() { parent = GinkgoT().TempDir() })

		startFrom := func(ctx context.Context, snapshot string) error {
			GinkgoHelper()
			data := filepath.Join(parent, "data")
			Expect(os.Mkdir(data, 0o700)).To(Succeed())
			c, err := etcdtest.Start(ctx, etcdtest.Config{Binary: binary, DataDir: data, Snapshot: snapshot})
			Expect(c).To(BeNil())
			Expect(err).To(HaveOccurred())
			Expect(processesUsing(parent)).To(BeEmpty(), "no member or restore process survives")
			left, _ := filepath.Glob(filepath.Join(data, "etcdtest-*", "*"))
			Expect(left).To(BeEmpty(), "no data dir survives")
			return err
		}
		write := func(name string, content []byte) string {
			p := filepath.Join(parent, name)
			Expect(os.WriteFile(p, content, 0o600)).To(Succeed())
			return p
		}

		It("a missing file", func(ctx SpecContext) {
			missing := filepath.Join(parent, "no-such.db")
			Expect(startFrom(ctx, missing)).To(MatchError(And(
				ContainSubstring(`Config.Snapshot "`+missing+`" cannot be read`),
				ContainSubstring("point it at a file saved by Member.Snapshot"))))
		}, SpecTimeout(30*time.Second))

		It("a directory", func(ctx SpecContext) {
			Expect(startFrom(ctx, parent)).To(MatchError(ContainSubstring(`Config.Snapshot "` + parent + `" is not a regular file`)))
		}, SpecTimeout(30*time.Second))

		It("a truncated snapshot", func(ctx SpecContext) {
			if why := canRestore(src); why != "" {
				Skip(why)
			}
			b, err := os.ReadFile(file)
			Expect(err).NotTo(HaveOccurred())
			cut := write("cut.db", b[:len(b)/2])
			Expect(startFrom(ctx, cut)).To(MatchError(And(
				ContainSubstring(`restore Config.Snapshot "`+cut+`" for member node`),
				ContainSubstring("Is it a complete etcd snapshot?"),
				ContainSubstring("point Config.Snapshot at a file saved by Member.Snapshot"))))
		}, SpecTimeout(time.Minute))

		It("a snapshot with one byte altered", func(ctx SpecContext) {
			if why := canRestore(src); why != "" {
				Skip(why)
			}
			b, err := os.ReadFile(file)
			Expect(err).NotTo(HaveOccurred())
			b[len(b)/3] ^= 0xff
			bad := write("altered.db", b)
			Expect(startFrom(ctx, bad)).To(MatchError(ContainSubstring("Is it a complete etcd snapshot?")))
		}, SpecTimeout(time.Minute))

		It("a file that is not a snapshot", func(ctx SpecContext) {
			if why := canRestore(src); why != "" {
				Skip(why)
			}
			text := write("notes.txt", []byte(strings.Repeat("not an etcd snapshot\n", 500)))
			Expect(startFrom(ctx, text)).To(MatchError(And(
				ContainSubstring(`restore Config.Snapshot "`+text+`"`),
				ContainSubstring("Is it a complete etcd snapshot?"))))
		}, SpecTimeout(time.Minute))

		It("etcd 3.4 without etcdctl says what to install", func(ctx SpecContext) {
			if canRestore(src) == "" {
				Skip("the suite's etcd can restore snapshots")
			}
			Expect(startFrom(ctx, file)).To(MatchError(And(
				ContainSubstring("needs etcdctl"), ContainSubstring("apt-get install etcd-client"))))
		}, SpecTimeout(30*time.Second))
	})
})
