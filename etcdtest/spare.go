package etcdtest

// Warm spares. A fresh 3-member cluster costs ~100 ms of boot; a spec that
// wants one of its own pays that in series, spec after spec. With
// Config.Spare (PerSpec sets it) a process keeps one more cluster of the
// same config booting in the background, so that the next Start of an
// equal config takes it ready and only pays the hand-over check.
//
// A spare is an ordinary local cluster, booted by the same boot as any
// other: its members have the parent-death signal, its directories hold
// the owner lock the sweep respects, and it lives in this process's memory
// only, so two processes (ginkgo -p) never share one. What is particular to
// spares is that nothing in the user's suite stops them:
//
//   - an interrupt (^C, ^C^C, --timeout) stops them with the live clusters
//     (stopLive in ginkgo.go);
//   - when the process ends any other way — the suite simply finished, or
//     SIGKILL — the members die by the parent-death signal, and a reaper
//     (a shell started with the first spare, waiting on a pipe only this
//     process holds) removes the directories named after this process the
//     moment the pipe closes. Without the reaper the last spare's data
//     would wait for the next run's sweep.
//
// Identity: a spare is taken only by a config equal to the one it was
// booted for, compared after defaults and with the etcd binaries resolved
// (spareKey). Configs with a LogOutput never get one: a spare's boot would
// write into a writer the caller may not expect to be written yet.
// At hand-over every member must still run, the binaries and snapshot must
// be the files they were (size and modification time), and the cluster
// must pass the readiness check again — its own cluster ID and members, one
// raft leader, a linearizable read. A spare that fails any of it is torn
// down and a fresh cluster booted instead; none is ever handed out stale.
//
// The pool itself — one spare per config, spares for at most two configs
// (the least recently used goes first), a spare nobody took for 30 s
// stopped, hand-over only after the check — is internal/warm's Pool.

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/host"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/warm"
)

// EnvSpares, set to "0", turns warm spares off in this process whatever
// Config.Spare says (a machine short of memory; a run that measures without
// them).
const EnvSpares = "ETCDTEST_SPARES"

// spares is this process's pool of warm spare clusters.
var spares = &warm.Pool[*local]{
	MaxKeys: 2,                // configs with a spare at once
	Idle:    30 * time.Second, // a spare nobody took is stopped
	Check:   checkSpare,
	Discard: func(l *local) {
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		l.teardown(ctx)
	},
}

// reaper removes the data of this process's clusters when the process
// ends: of its spares everywhere (a spare must not outlive it on disk: none
// is made unless it watches), and of every local cluster where members have
// no parent-death signal (docs/platforms.md).
var reaper host.Reaper

// handOverBound bounds the readiness re-check at hand-over.
const handOverBound = 2 * time.Second

// sparesOff reports whether $ETCDTEST_SPARES turns spares off.
func sparesOff() bool { return os.Getenv(EnvSpares) == "0" }

// spareKey returns the identity of a defaulted cfg whose binaries are
// resolved, and whether a cluster of it may have a spare at all. Every
// field of Config counts (printed with %#v, so a field added later counts
// too) except Spare itself; Binary stands resolved, Version with it.
func spareKey(cfg Config, bin etcdBinary, bins []etcdBinary) (string, bool) {
	if cfg.LogOutput != nil {
		return "", false
	}
	cfg.Spare = false
	cfg.Binary, cfg.Version = bin.Path, ""
	cfg.MemberVersions = nil
	var paths []string
	for _, b := range bins {
		paths = append(paths, b.Path)
	}
	return fmt.Sprintf("%#v members=%q", cfg, paths), true
}

// fileStamps names the size and modification time of the files a cluster
// is made from, so a binary rebuilt or a snapshot rewritten in place since
// the spare booted is noticed at hand-over.
func fileStamps(cfg Config, bins []etcdBinary) string {
	var b strings.Builder
	paths := []string{cfg.Snapshot}
	for _, bin := range bins {
		paths = append(paths, bin.Path)
	}
	for _, p := range slices.Compact(paths) {
		if p == "" {
			continue
		}
		if fi, err := os.Stat(p); err == nil {
			fmt.Fprintf(&b, "%s:%d:%d;", p, fi.Size(), fi.ModTime().UnixNano())
		} else {
			fmt.Fprintf(&b, "%s:%v;", p, err)
		}
	}
	return b.String()
}

// checkSpare is the hand-over: the spare must still run and pass the
// readiness check (the pool has checked its files' stamp).
func checkSpare(ctx context.Context, l *local) error {
	for _, m := range l.members() {
		if st := m.State(); st != Running {
			return fmt.Errorf("member %s is %s", m.name, st)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, handOverBound)
	defer cancel()
	return l.readyOnce(ctx)
}

// StopSpares stops every warm spare of this process (see Config.Spare) and
// returns once they are gone. Later Starts with Spare make new ones. The
// Ginkgo helpers need no call to it; a plain go test with spares may call it
// at the end of TestMain to leave nothing running for even a moment after
// the tests.
func StopSpares() { spares.Drain(false) }
