// Package proc is etcdtest's hold on member processes: it starts them so
// they die with the test process (Start), tells when SIGSTOP has stopped
// every thread (Stopped), identifies a process by its command line before a
// pid read from a file is signalled (CommandLine), tells which process
// opened a loopback connection (ConnOwner), and keeps the tail of a
// member's log (LogBuffer) and its digest for a failure report
// (LogDigest).
//
// Every read of /proc goes through the module's internal/procfs. Where
// there is no /proc (macOS, FreeBSD), ps answers instead: Stopped reads the
// process's state, CommandLine its arguments; Start does without the
// parent-death signal (ParentDeathSignal is false). CheckPlatform says
// where member processes cannot run at all (Windows).
//
//	log := proc.NewLogBuffer(limit, cfg.LogOutput, "[node1] ")
//	cmd := exec.Command(etcd, args...)
//	cmd.Stdout, cmd.Stderr = log, log
//	if err := proc.Start(cmd); err != nil {
//		return fmt.Errorf("start member: %w", err)
//	}
//	syscall.Kill(cmd.Process.Pid, syscall.SIGSTOP)
//	stopped, running := proc.Stopped(cmd.Process.Pid) // "3 of 14 threads in state R" until it holds
package proc
