package procfs_test

import (
	"os"
	"os/exec"
	"syscall"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/internal/procfs"
)

// The specs run a child `sleep` and read it through /proc as the suites
// read etcd members: alive, stopped by SIGSTOP, a zombie once killed, gone
// once reaped.
var _ = Describe("Reading a process from /proc", func() {
	var cmd *exec.Cmd

	BeforeEach(func() {
		cmd = exec.Command("sleep", "60")
		Expect(cmd.Start()).To(Succeed())
		DeferCleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
		})
	})

	It("tells a live process, its command line, and that /proc lists it", func() {
		pid := cmd.Process.Pid
		Expect(procfs.Alive(pid)).To(BeTrue())
		// Start returns once the child is forked, maybe before it has
		// exec'd sleep: until then its command line is empty.
		Eventually(procfs.Cmdline).WithArguments(pid).Should(Equal("sleep 60"))
		Expect(procfs.Pids()).To(ContainElement(pid))
	})

	It("sees SIGSTOP take effect on the process and every thread", func() {
		pid := cmd.Process.Pid
		Expect(cmd.Process.Signal(syscall.SIGSTOP)).To(Succeed())
		// SIGSTOP is delivered asynchronously: poll for its effect.
		Eventually(procfs.State).WithArguments(pid).Should(Equal("T"))
		Eventually(procfs.ThreadStates).WithArguments(pid).Should(HaveEach("T"))
		Expect(procfs.Alive(pid)).To(BeTrue(), "a stopped process is alive")
		Expect(cmd.Process.Signal(syscall.SIGCONT)).To(Succeed())
	})

	It("tells a killed process that is not reaped yet as a zombie, not alive", func() {
		pid := cmd.Process.Pid
		Expect(cmd.Process.Kill()).To(Succeed())
		Eventually(procfs.State).WithArguments(pid).Should(Equal("Z"))
		Expect(procfs.Alive(pid)).To(BeFalse())
	})

	It("tells alive as ps does where there is no /proc: running and stopped, not a zombie, not gone", func() {
		if _, err := exec.LookPath("ps"); err != nil {
			Skip("no ps on PATH (Debian: apt-get install procps)")
		}
		pid := cmd.Process.Pid
		Expect(procfs.AliveByPs(pid)).To(BeTrue())
		Expect(cmd.Process.Signal(syscall.SIGSTOP)).To(Succeed())
		Eventually(procfs.State).WithArguments(pid).Should(Equal("T"))
		Expect(procfs.AliveByPs(pid)).To(BeTrue(), "a stopped process is alive")
		Expect(cmd.Process.Kill()).To(Succeed())
		Eventually(procfs.State).WithArguments(pid).Should(Equal("Z"))
		Expect(procfs.AliveByPs(pid)).To(BeFalse(), "a zombie is not")
		cmd.Wait()
		Expect(procfs.AliveByPs(pid)).To(BeFalse(), "nor a reaped pid")
		Expect(procfs.AliveByPs(-1)).To(BeFalse())
	})

	It("fails for a process that is gone, and for no process at all", func() {
		pid := cmd.Process.Pid
		Expect(cmd.Process.Kill()).To(Succeed())
		cmd.Wait()
		Expect(procfs.Alive(pid)).To(BeFalse())
		_, err := procfs.State(pid)
		Expect(err).To(MatchError(os.ErrNotExist))
		_, err = procfs.ThreadStates(pid)
		Expect(err).To(MatchError(os.ErrNotExist))
		_, err = procfs.Cmdline(pid)
		Expect(err).To(MatchError(os.ErrNotExist))
		_, err = procfs.State(0)
		Expect(err).To(MatchError("procfs: no process has pid 0"))
		Expect(procfs.Alive(-1)).To(BeFalse())
	})
})
