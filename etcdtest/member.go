package etcdtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/callsite"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/clients"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/failpoint"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proc"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proxy"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Member is one etcd process of a Cluster. Its methods are real signals on
// the real process: Kill is SIGKILL, Pause is SIGSTOP, Resume is SIGCONT.
type Member struct {
	c          *common
	l          *local // nil for a member of an external cluster
	index      int
	name       string
	id         uint64
	clientPort int
	peerPort   int          // the member's own peer listener; peers reach it through proxy
	proxy      *proxy.Proxy // in front of the peer listener; nil against an external cluster
	peerURL    string
	clientURL  string
	dataDir    string
	log        *proc.LogBuffer
	joinedWith string           // --initial-cluster of a member added to a running cluster; "" for one of the boot
	bin        etcdBinary       // what its process runs; RestartOn changes it (under mu)
	learner    atomic.Bool      // a raft learner: added AsLearner and not promoted yet
	fp         failpoint.Member // Port 0 without Config.Failpoints

	client *clientv3.Client

	mu     sync.Mutex
	proc   *process
	state  State
	made   callsite.Record // the calls that left it in state, when not Running
	starts int
}

// process is one run of a member's executable.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and been reaped
	err  error         // its exit status, valid after done
}

// Name returns the member's etcd name (node1, node2, ...).
func (m *Member) Name() string { return m.name }

// Index returns the member's index in Members(): the int Member, Isolate,
// Partition and the other fault methods take. It never changes (a removed
// member keeps its index, an added one takes the next).
func (m *Member) Index() int { return m.index }

// Indexes returns the index of each member, in order: the members as the
// fault methods take them, such as
// Partition(etcdtest.Indexes(leader), etcdtest.Indexes(followers...)) or
// Delay(d, etcdtest.Indexes(m)...). For one member, m.Index() is the int.
func Indexes(members ...*Member) []int {
	idx := make([]int, len(members))
	for i, m := range members {
		idx[i] = m.index
	}
	return idx
}

// ID returns the member's raft ID as etcd reports it.
func (m *Member) ID() uint64 { return m.id }

// ClientURL returns the URL clients use to reach this member.
func (m *Member) ClientURL() string { return m.clientURL }

// PeerURL returns the URL peers use to reach this member (the one it advertises).
func (m *Member) PeerURL() string { return m.peerURL }

// DataDir returns the member's data directory.
func (m *Member) DataDir() string { return m.dataDir }

// Client returns a client pinned to this member alone. It is shared and
// closed by Cluster.Stop; do not close it. While the member's process is
// gone (killed, stopped, exited, removed) its calls fail at once, wrapping
// ErrNotRunning; on a paused or isolated member they wait, as etcd would.
func (m *Member) Client() *clientv3.Client { return m.client }

// Key returns the key name read through this member alone.
func (m *Member) Key(name string) Key { return Key{name: name, client: m.client, via: m.name} }

// Logs returns the tail of the member's log (all runs, bounded by Config.LogLimit).
func (m *Member) Logs() string { return m.log.String() }

// String returns the member's name.
func (m *Member) String() string { return m.name }

// State is what a member's process is doing, as Member.State reports it.
type State int

// The states of a member. A member of a cluster the toolkit booted is
// Running from the time Start returns, until a fault method or Stop
// changes that; a member of an external cluster is always External.
const (
	starting State = iota // created, its process not started yet: only inside Start
	Running               // its process runs
	Paused                // stopped by Pause (SIGSTOP); Resume continues it
	Killed                // ended by Kill (SIGKILL)
	Stopped               // ended by Member.Stop (SIGTERM) or Cluster.Stop
	Exited                // ended by itself, unasked: see Member.Logs
	External              // a member of an external cluster, not the toolkit's process
	Removed               // removed from the membership by RemoveMember; its process is gone
)

var stateNames = [...]string{"starting", "running", "paused", "killed", "stopped", "exited", "external", "removed"}

// String returns the state's name in lower case ("running").
func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return "State(" + strconv.Itoa(int(s)) + ")"
	}
	return stateNames[s]
}

// Running reports whether the member's process exists: true while it runs
// and while it is Paused (a frozen process is still there, and Resume
// continues it), false once it is killed, stopped, exited or removed. It
// answers "does this member need a Restart?"; whether the member can
// answer right now is State() == Running.
func (m *Member) Running() bool { return m.alive() }

// State reports what the member's process is doing: Running only while it
// runs unpaused, so State() == Running is false for a Paused member, whose
// Running() is true.
func (m *Member) State() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state == Running && m.proc != nil && isDone(m.proc.done) {
		return Exited
	}
	return m.state
}

// alive reports whether the member's process exists (running or paused).
func (m *Member) alive() bool {
	st := m.State()
	return st == Running || st == Paused
}

func (m *Member) pid() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc == nil || isDone(m.proc.done) {
		return 0
	}
	return m.proc.cmd.Process.Pid
}

func isDone(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// start launches the member's process. The caller holds no lock.
func (m *Member) start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc != nil && !isDone(m.proc.done) {
		return fmt.Errorf("etcdtest: member %s is already running", m.name)
	}
	m.starts++
	if m.starts > 1 {
		fmt.Fprintf(m.log, "--- etcdtest: restarting %s ---\n", m.name)
	}
	cmd := exec.Command(m.bin.Path, m.l.args(m)...)
	// Never the test process's stdout/stderr: Ginkgo's output capture waits
	// for every holder of those pipes, and member logs belong in reports.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, m.log, m.log
	cmd.Dir = m.l.dir
	if m.fp.Port != 0 && m.bin.Failpoints {
		m.fp.Version = m.bin.Version.String()
		cmd.Env = append(os.Environ(), m.fp.Env()...)
	}
	if err := proc.Start(cmd); err != nil {
		return fmt.Errorf("etcdtest: start member %s (%s): %w", m.name, m.bin.Path, err)
	}
	// The sweep of a crashed run finds a member's process by this file: a
	// member it cannot find must not run.
	pidFile := filepath.Join(m.l.dir, m.name+".pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)), 0o600); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return fmt.Errorf("etcdtest: start member %s: write its pid file, which the sweep of a crashed run needs: %w (is the cluster directory %s writable and not full?)", m.name, err, m.l.dir)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	m.proc, m.state = p, Running
	m.made.Note(false)
	go func() {
		p.err = cmd.Wait()
		m.mu.Lock()
		unasked := m.proc == p && m.state == Running
		m.mu.Unlock()
		if unasked && m.fp.Port != 0 {
			m.fp.NoteExit(p.err) // the log tail names the failpoints armed
		}
		m.proxy.DropAll() // peers see a dead member at once, as with a real crash
		close(p.done)
	}()
	return nil
}

// signal sends sig to the running process and returns it, or nil if none runs.
func (m *Member) signal(sig syscall.Signal, state State) (*process, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.proc
	if p == nil || isDone(p.done) {
		return nil, nil
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return p, fmt.Errorf("etcdtest: signal %v to member %s: %w", sig, m.name, err)
	}
	m.state = state
	m.made.Note(state != Running)
	return p, nil
}

// signalBound is how long a signal may take to act on a member: SIGKILL
// until the process is reaped, SIGSTOP until every thread is stopped (a
// thread in a system call stops when it leaves it; a loaded machine is slow).
const signalBound = 10 * time.Second

// Kill sends SIGKILL, like a crash, and returns once the process is gone
// and the cluster has settled: if it was the raft leader, the remaining
// majority has elected a new one (see Cluster.NoSettle). Its data stays;
// Restart brings it back. Killing a stopped member is a no-op.
func (m *Member) Kill() error {
	l, err := m.local("Kill")
	if err != nil {
		return err
	}
	p, err := m.signal(syscall.SIGKILL, Killed)
	if err != nil || p == nil {
		return err
	}
	select {
	case <-p.done:
	case <-time.After(signalBound):
		return fmt.Errorf("etcdtest: member %s (pid %d) did not die within %v of SIGKILL", m.name, p.cmd.Process.Pid, signalBound)
	}
	return l.settle(context.Background(), "Kill("+m.name+")")
}

// Stop stops the member gracefully (SIGTERM) and waits for it to exit and
// for the cluster to settle, as Kill does. (Cluster.Stop, by contrast,
// kills every member: it ends a disposable cluster, not one member.) If ctx ends before the member
// exits, the member is killed. Stopping a stopped member is a no-op.
func (m *Member) Stop(ctx context.Context) error {
	l, err := m.local("Stop")
	if err != nil {
		return err
	}
	p, err := m.signal(syscall.SIGTERM, Stopped)
	if err != nil || p == nil {
		return err
	}
	p.cmd.Process.Signal(proc.SIGCONT) // a paused member must run to handle SIGTERM
	select {
	case <-p.done:
		return l.settle(ctx, "Stop("+m.name+")")
	case <-ctx.Done():
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("etcdtest: member %s did not stop before %w; killed it", m.name, ctx.Err())
	}
}

// Pause stops the member's process with SIGSTOP: it holds its ports and
// connections but answers nothing, like a machine that froze. It returns
// once every thread of the process is stopped and the cluster has settled:
// if it was the raft leader, the remaining majority has elected a new one
// (see Cluster.NoSettle).
func (m *Member) Pause() error {
	l, err := m.local("Pause")
	if err != nil {
		return err
	}
	p, err := m.signal(proc.SIGSTOP, Paused)
	if err == nil && p == nil {
		return fmt.Errorf("etcdtest: cannot pause member %s: it is %s", m.name, m.State())
	}
	if err != nil {
		return err
	}
	// The signal takes effect a moment after it is sent; return only when
	// the process is really frozen, so the next line of a test can rely on
	// it. A thread in a system call stops when it leaves it: on a loaded
	// machine that can take a while, hence the generous bound.
	ctx, cancel := context.WithTimeout(context.Background(), signalBound)
	defer cancel()
	var running string
	err = poll(ctx, time.Millisecond, func() (bool, error) {
		var stopped bool
		if stopped, running = proc.Stopped(p.cmd.Process.Pid); stopped {
			return true, nil
		}
		if isDone(p.done) {
			return false, fmt.Errorf("etcdtest: member %s exited while being paused; see its log (Member.Logs)", m.name)
		}
		return false, nil
	}, func() error {
		return fmt.Errorf("etcdtest: member %s did not stop within %v of SIGSTOP (%s); the machine may be overloaded", m.name, signalBound, running)
	})
	if err != nil {
		return err
	}
	return l.settle(context.Background(), "Pause("+m.name+")")
}

// Resume continues a paused member with SIGCONT and returns once the
// members that can form a majority agree on one raft leader again.
func (m *Member) Resume() error {
	l, err := m.local("Resume")
	if err != nil {
		return err
	}
	p, err := m.signal(proc.SIGCONT, Running)
	if err == nil && p == nil {
		return fmt.Errorf("etcdtest: cannot resume member %s: it is %s", m.name, m.State())
	}
	if err != nil {
		return err
	}
	return l.settle(context.Background(), "Resume("+m.name+")")
}

// Restart stops the member if it runs (gracefully), starts it again with the
// same name, URLs and data, and returns when it serves linearizable reads
// again — which needs a quorum of the cluster — and the members that can
// form a majority agree on one raft leader. ctx bounds the wait; without a
// deadline, Config.StartTimeout does.
func (m *Member) Restart(ctx context.Context) error {
	l, err := m.restartable("Restart")
	if err != nil {
		return err
	}
	return m.restart(ctx, l, nil, "Restart("+m.name+")")
}

// restartable returns the member's cluster for op (Restart, RestartOn),
// or why op cannot bring the member back.
func (m *Member) restartable(op string) (*local, error) {
	l, err := m.local(op)
	if err != nil {
		return nil, err
	}
	if m.State() == Removed {
		return nil, fmt.Errorf("etcdtest: %s(%s): it was removed from the cluster (RemoveMember), and etcd does not take a removed member back; AddMember adds a new one", op, m.name)
	}
	return l, nil
}

// restart is Restart and RestartOn: it stops the member if it runs,
// starts it again — on bin, when bin is not nil — with its name, URLs and
// data, and returns once it serves and the cluster has settled (what
// names the step in a timeout's error).
func (m *Member) restart(ctx context.Context, l *local, bin *etcdBinary, what string) error {
	ctx, cancel := l.startContext(ctx)
	defer cancel()
	if m.Running() {
		if err := m.Stop(ctx); err != nil {
			return err
		}
	}
	if bin != nil {
		m.mu.Lock()
		m.bin = *bin
		m.mu.Unlock()
	}
	if err := m.start(); err != nil {
		return err
	}
	if err := l.waitServing(ctx, m); err != nil {
		return err
	}
	return l.settle(ctx, what)
}

// local returns the cluster the member's process belongs to, for op.
func (m *Member) local(op string) (*local, error) {
	if m.l == nil {
		return nil, fmt.Errorf("%s: %w", op, ErrExternal)
	}
	return m.l, nil
}

// exited returns the process's exit error if the current run has ended.
func (m *Member) exited() (bool, error) {
	m.mu.Lock()
	p := m.proc
	m.mu.Unlock()
	if p == nil {
		return false, nil
	}
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Pid returns the process ID of the member's current run, or 0 when it is not running.
func (m *Member) Pid() int { return m.pid() }

// Status returns the member's own view of the cluster — the raft leader it
// follows (Leader, a member ID: see Cluster.MemberByID), raft term and
// index, version, database size, alarms — asked over the open connection of
// the member's client: clientv3's Maintenance.Status dials a new connection
// per call, and polled every few milliseconds (by settling, by matchers)
// that churn fills the machine with TIME_WAIT sockets. A ctx without a
// deadline gets Config.CallTimeout.
func (m *Member) Status(ctx context.Context) (*clientv3.StatusResponse, error) {
	ctx, cancel := clients.WithDefaultDeadline(ctx, m.c.cfg.CallTimeout)
	defer cancel()
	st, err := m.status(ctx)
	if err != nil {
		return nil, fmt.Errorf("etcdtest: status of member %s: %w", m.name, err)
	}
	return (*clientv3.StatusResponse)(st), nil
}

// status is Status without the default deadline and error wrapping.
func (m *Member) status(ctx context.Context) (*pb.StatusResponse, error) {
	return pb.NewMaintenanceClient(m.client.ActiveConnection()).Status(ctx, &pb.StatusRequest{})
}
