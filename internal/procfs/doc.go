// Package procfs is the toolkit's one reader of what Linux's /proc says
// about a process: its state, its threads' states, its command line, its
// open files, the pids /proc lists, and the TCP sockets it lists.
//
// etcdtest reads it to know when SIGSTOP has taken effect on every thread of
// a member; the test suites read it to prove that no etcd process outlives
// its cluster. One reader handles the format's trap once: in
// /proc/<pid>/stat the state letter follows the command name, which is in
// parentheses and may itself contain spaces and parentheses, so the state is
// found after the last ')'.
//
//	if procfs.Alive(pid) { ... }                      // exists, not a zombie
//	Eventually(procfs.State).WithArguments(pid).Should(Equal("T"))
//
// Elsewhere than on Linux there is no /proc: every function returns an
// error wrapping errors.ErrUnsupported, except Alive, which asks ps.
package procfs
