package host

// A reaper is a shell that outlives this process by moments and removes the
// cluster directories named after it, for the clusters nothing stops when
// the process ends (warm spares): started once per directory, it waits on a
// pipe only this process holds.

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proc"
)

// A Reaper starts the reapers of this process's cluster directories. The
// zero value is ready to use; one is meant to live as long as the process.
type Reaper struct {
	mu       sync.Mutex
	reaped   map[string]bool // cluster bases a reaper watches
	lifeline []*os.File      // write ends of the reapers' pipes: never closed, never collected
}

// reaperScript runs in a shell that outlives this process by moments. Its
// stdin is a pipe whose only write end this process holds: read returns at
// end of file, when the process has exited however it exited. It then does
// what Stop would have done for every cluster directory named after the
// process: kill members still running (those whose command line names the
// directory: where no parent-death signal exists), and remove the
// directory, renamed to a dot name first as sweep.go requires. Where there
// is no /proc, ps names a member's arguments ($ETCDTEST_REAP_PROCFS, for
// tests only, points elsewhere than /proc to take that path on Linux).
const reaperScript = `read -r _
pid="$1"
procfs="${ETCDTEST_REAP_PROCFS:-/proc}"
for base in $ETCDTEST_REAP; do
  for d in "$base/$pid"-* "$base/.$pid"-* "$base/.rm-$pid"-*; do
    [ -d "$d" ] || continue
    for f in "$d"/*.pid; do
      [ -f "$f" ] || continue
      p="$(cat "$f")"
      if [ -r "$procfs/$p/cmdline" ]; then
        tr '\0' ' ' <"$procfs/$p/cmdline" | grep -qF -- "$d/" && kill -9 "$p"
      else
        ps -ww -p "$p" -o command= 2>/dev/null | grep -qF -- "$d/" && kill -9 "$p"
      fi
    done
    case "$(basename "$d")" in
    .*) rm -rf "$d" ;;
    *) mv "$d" "$base/.rm-$(basename "$d")" 2>/dev/null && rm -rf "$base/.rm-$(basename "$d")" ;;
    esac
  done
done
`

// Watch makes sure a reaper removes this process's cluster directories
// under dataDir and os.TempDir (the WAL's) once the process has exited.
// The bases go in the environment, not the command line, so nothing that
// looks for processes naming a data dir takes the reaper for a member.
func (r *Reaper) Watch(dataDir string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var bases []string
	for _, parent := range []string{dataDir, os.TempDir()} {
		base := parent + "/etcdtest-" + strconv.Itoa(os.Getuid())
		if !r.reaped[base] && !slices.Contains(bases, base) {
			bases = append(bases, base)
		}
	}
	if len(bases) == 0 {
		return nil
	}
	for _, b := range bases {
		if strings.ContainsAny(b, " \t\n") {
			return fmt.Errorf("etcdtest: no spares under %q: the reaper splits its directories at blanks", b)
		}
	}
	pr, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer pr.Close()
	cmd := exec.Command("/bin/sh", "-c", reaperScript, "etcdtest-reaper", strconv.Itoa(os.Getpid()))
	cmd.Stdin = pr
	cmd.Env = append(os.Environ(), "ETCDTEST_REAP="+strings.Join(bases, " "))
	// Its own process group, so the ^C of a terminal does not end it
	// before the process it watches has ended.
	cmd.SysProcAttr = proc.OwnGroup()
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("etcdtest: start the reaper of spares: %w", err)
	}
	go cmd.Wait() // it exits after this process; reaped here only if it fails early
	r.lifeline = append(r.lifeline, w)
	if r.reaped == nil {
		r.reaped = map[string]bool{}
	}
	for _, b := range bases {
		r.reaped[b] = true
	}
	return nil
}
