//go:build !linux

package proc

import "os/exec"

// ParentDeathSignal reports whether Start's children die with this
// process by the kernel's doing, however it ends: only Linux has the
// signal for it (prctl PR_SET_PDEATHSIG; macOS and FreeBSD have nothing a
// child can ask for before exec).
const ParentDeathSignal = false

// Start starts cmd in its own process group. cmd.SysProcAttr is replaced.
// There is no parent-death signal here: members of a test process that
// ended without stopping them are killed by the reaper the moment it ends
// (etcdtest starts one for every local cluster where ParentDeathSignal is
// false, see host.Reaper) and, should the reaper be killed too, by the
// sweep at the next Start.
func Start(cmd *exec.Cmd) error {
	cmd.SysProcAttr = OwnGroup()
	return cmd.Start()
}
