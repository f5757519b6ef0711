package etcdtest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proc"
)

// child starts this test binary as a child process in the given mode.
func child(mode, out, data string, env ...string) *gexec.Session {
	GinkgoHelper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		"ETCDTEST_CHILD="+mode, "ETCDTEST_CHILD_OUT="+out, "ETCDTEST_CHILD_DATA="+data,
		"ETCDTEST_BINARY="+binary, "ETCDTEST_ENDPOINTS=")
	cmd.Env = append(cmd.Env, env...)
	s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { s.Kill().Wait(10 * time.Second) })
	return s
}

var _ = Describe("Nothing left behind", func() {
	It("kills the members of a test process that is SIGKILLed, and the next Start sweeps its data", func(ctx SpecContext) {
		data := GinkgoT().TempDir()
		out := filepath.Join(GinkgoT().TempDir(), "held")
		s := child("hold", out, data)
		Eventually(out).WithTimeout(time.Minute).Should(BeAnExistingFile())
		b, err := os.ReadFile(out)
		Expect(err).NotTo(HaveOccurred())
		fields := strings.Fields(string(b))
		dir, pids := fields[0], fields[1:]
		Expect(pids).To(HaveLen(3))
		for _, p := range pids {
			Expect(alive(atoi(p))).To(BeTrue())
		}

		Expect(s.Command.Process.Signal(syscall.SIGKILL)).To(Succeed())
		Eventually(s).WithTimeout(10 * time.Second).Should(gexec.Exit())
		for _, p := range pids {
			Eventually(func() bool { return alive(atoi(p)) }).WithTimeout(10*time.Second).Should(BeFalse(), "member pid %s outlived its test process", p)
		}
		Expect(dir).To(BeADirectory(), "a SIGKILLed process cannot clean up; the next Start does")

		c := start(etcdtest.Config{Size: 1, DataDir: data})
		Expect(dir).NotTo(BeADirectory(), "Start swept the crashed run's data")
		Expect(c.Dir()).To(BeADirectory())
	})

	It("sweeps leftovers whose members still run (a crash where no parent-death signal exists)", func(ctx SpecContext) {
		data := GinkgoT().TempDir()
		out := filepath.Join(GinkgoT().TempDir(), "held")
		s := child("hold", out, data)
		Eventually(out).WithTimeout(time.Minute).Should(BeAnExistingFile())
		b, _ := os.ReadFile(out)
		fields := strings.Fields(string(b))
		dir := fields[0]
		// Stop the child without killing it: its lock stays held, so its cluster is alive and must be left alone.
		Expect(s.Command.Process.Signal(proc.SIGSTOP)).To(Succeed())
		DeferCleanup(func() { s.Command.Process.Signal(proc.SIGCONT) })
		start(etcdtest.Config{Size: 1, DataDir: data})
		Expect(dir).To(BeADirectory(), "a live process's cluster is not swept")
		for _, p := range fields[1:] {
			Expect(alive(atoi(p))).To(BeTrue())
		}
	})

	It("never gives two processes booting at once the same port: 4 processes × 5 boots", func(ctx SpecContext) {
		dir := GinkgoT().TempDir()
		var sessions []*gexec.Session
		for i := range 4 {
			sessions = append(sessions, child("boots", filepath.Join(dir, itoa(i)), "", "ETCDTEST_CHILD_N=5"))
		}
		for _, s := range sessions {
			Eventually(s).WithTimeout(2 * time.Minute).Should(gexec.Exit(0))
		}
		type boot struct {
			proc       int
			begin, end int64
			urls       []string
		}
		var boots []boot
		for i := range 4 {
			b, err := os.ReadFile(filepath.Join(dir, itoa(i)))
			Expect(err).NotTo(HaveOccurred())
			for _, line := range strings.Split(string(b), "\n") {
				Expect(line).To(HavePrefix("ok "))
				f := strings.Fields(line)
				boots = append(boots, boot{proc: i, begin: int64(atoi(f[1])), end: int64(atoi(f[2])), urls: f[3:]})
			}
		}
		Expect(boots).To(HaveLen(20))
		overlapping := 0
		for _, a := range boots {
			for _, b := range boots {
				if a.proc < b.proc && a.begin < b.end && b.begin < a.end {
					overlapping++
					Expect(a.urls).NotTo(ContainElements(b.urls), "clusters alive at the same time share a port")
				}
			}
		}
		Expect(overlapping).To(BeNumerically(">", 0), "the processes did boot at the same time")
	})
})
