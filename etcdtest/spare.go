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
// Bounds: one spare per config, spares for at most maxSpareConfigs configs
// (the least recently used goes first), and a spare nobody took for
// spareIdle is stopped.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/host"
)

// EnvSpares, set to "0", turns warm spares off in this process whatever
// Config.Spare says (a machine short of memory; a run that measures without
// them).
const EnvSpares = "ETCDTEST_SPARES"

const (
	maxSpareConfigs = 2
	spareIdle       = 30 * time.Second
	handOverBound   = 2 * time.Second // the readiness re-check at hand-over
)

// spare is one cluster booting or ready for a config.
type spare struct {
	ready  chan struct{} // closed when the boot has ended
	l      *local        // valid after ready; nil if the boot failed
	err    error         // valid after ready
	stamp  string        // the files it was booted from, see fileStamps
	cancel context.CancelFunc
	since  time.Time // when it was asked for: for least-recently-used eviction
	idle   *time.Timer
}

type sparePool struct {
	mu     sync.Mutex
	slots  map[string]*spare
	closed bool        // after an interrupt: no new spares
	reaper host.Reaper // removes the spares' data when the process ends
}

var spares = &sparePool{slots: map[string]*spare{}}

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

// start returns a cluster of key: the spare if there is a good one (waiting
// for one still booting, which is ahead of a fresh boot), else a fresh one
// from boot. Either way a new spare of key starts booting afterwards.
func (p *sparePool) start(ctx context.Context, key, stamp string, dataDir string, boot func(context.Context) (*local, error)) (*local, error) {
	p.mu.Lock()
	s := p.slots[key]
	delete(p.slots, key)
	p.mu.Unlock()
	if s != nil {
		if l := s.take(ctx, stamp); l != nil {
			p.refill(key, stamp, dataDir, boot)
			return l, nil
		}
	}
	l, err := boot(ctx)
	if err != nil {
		return nil, err
	}
	p.refill(key, stamp, dataDir, boot)
	return l, nil
}

// take waits for the spare's boot (bounded by ctx), checks it and returns
// it, or discards it and returns nil.
func (s *spare) take(ctx context.Context, stamp string) *local {
	s.idle.Stop()
	select {
	case <-s.ready:
	case <-ctx.Done():
		go s.discard()
		return nil
	}
	if s.err != nil {
		return nil // the boot tore itself down
	}
	if err := s.check(ctx, stamp); err != nil {
		go s.discard()
		return nil
	}
	return s.l
}

// check is the hand-over: the spare must be what it was booted as, still.
func (s *spare) check(ctx context.Context, stamp string) error {
	if s.stamp != stamp {
		return errors.New("the etcd binary or the snapshot changed since the spare booted")
	}
	for _, m := range s.l.members() {
		if st := m.State(); st != Running {
			return fmt.Errorf("member %s is %s", m.name, st)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, handOverBound)
	defer cancel()
	return s.l.readyOnce(ctx)
}

// discard stops the spare's boot, or the spare.
func (s *spare) discard() {
	s.idle.Stop()
	s.cancel()
	<-s.ready
	if s.l != nil {
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		s.l.teardown(ctx)
	}
}

// refill starts booting a spare of key unless there is one, evicting the
// least recently asked-for spare of another config if that makes too many.
func (p *sparePool) refill(key, stamp, dataDir string, boot func(context.Context) (*local, error)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.slots[key] != nil {
		return
	}
	if err := p.reaper.Watch(dataDir); err != nil {
		return // no spares without the reaper: they could outlive the process on disk
	}
	for len(p.slots) >= maxSpareConfigs {
		oldest := ""
		for k, s := range p.slots {
			if oldest == "" || s.since.Before(p.slots[oldest].since) {
				oldest = k
			}
		}
		go p.slots[oldest].discard()
		delete(p.slots, oldest)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &spare{ready: make(chan struct{}), stamp: stamp, cancel: cancel, since: time.Now()}
	s.idle = time.AfterFunc(spareIdle, func() { p.expire(key, s) })
	p.slots[key] = s
	go func() {
		defer close(s.ready)
		s.l, s.err = boot(ctx)
	}()
}

// expire stops a spare nobody took for spareIdle.
func (p *sparePool) expire(key string, s *spare) {
	p.mu.Lock()
	mine := p.slots[key] == s
	if mine {
		delete(p.slots, key)
	}
	p.mu.Unlock()
	if mine {
		s.discard()
	}
}

// StopSpares stops every warm spare of this process (see Config.Spare) and
// returns once they are gone. Later Starts with Spare make new ones. The
// Ginkgo helpers need no call to it; a plain go test with spares may call it
// at the end of TestMain to leave nothing running for even a moment after
// the tests.
func StopSpares() { spares.drain(false) }

// close stops every spare and makes no new ones: the suite is interrupted.
func (p *sparePool) close() { p.drain(true) }

func (p *sparePool) drain(closing bool) {
	p.mu.Lock()
	p.closed = p.closed || closing
	slots := p.slots
	p.slots = map[string]*spare{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range slots {
		wg.Add(1)
		go func() { defer wg.Done(); s.discard() }()
	}
	wg.Wait()
}

// count returns how many spares there are, booting or ready.
func (p *sparePool) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.slots)
}
