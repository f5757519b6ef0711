package etcdtest

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/provision"
)

// Environment variables read by Config's defaults.
const (
	// EnvBinary names an etcd executable to use instead of a managed build.
	EnvBinary = "ETCDTEST_BINARY"
	// EnvVersion names the etcd release of the managed build ("v3.6.16").
	EnvVersion = "ETCDTEST_VERSION"
	// EnvEndpoints, when set, makes Start use an existing cluster (comma-separated client URLs).
	EnvEndpoints = "ETCDTEST_ENDPOINTS"
)

// DefaultVersion is the etcd release a managed build uses when neither
// Config.Version nor $ETCDTEST_VERSION says otherwise. Its go.mod and go.sum
// ship inside this module, so its build is reproducible and checksum-verified.
const DefaultVersion = "v3.7.3"

// Config describes a cluster. The zero Config is a 3-member cluster of the
// default etcd version with timing tuned for tests.
type Config struct {
	// Size is the number of members; 0 means 3.
	Size int
	// Name is the base member name; "" means "node": members are node1, node2, node3.
	Name string
	// Binary is the path of an etcd executable. "" means $ETCDTEST_BINARY,
	// else a managed build of Version (see Provision).
	Binary string
	// Version is the etcd release of the managed build ("v3.6.16" or "3.6.16").
	// "" means $ETCDTEST_VERSION, else DefaultVersion. Ignored when a binary is given.
	Version string

	// Failpoints runs the members on etcd built with gofail's failpoints
	// compiled in, each serving gofail's HTTP endpoint on a loopback port of
	// its own: Member.Failpoints lists them, Member.Failpoint arms one,
	// Member.ClearFailpoint disarms it, chaos.Failpoint draws them. The
	// managed failpoint build of Version is built once per machine (about a
	// minute, printing one line) and cached apart from the plain build; a
	// Binary or $ETCDTEST_BINARY must have failpoints compiled in. See
	// docs/failpoints.md.
	Failpoints bool

	// HeartbeatInterval is raft's heartbeat; 0 means 10ms.
	HeartbeatInterval time.Duration
	// ElectionTimeout is raft's election timeout; 0 means 10 heartbeats (100ms by default).
	ElectionTimeout time.Duration
	// StartTimeout bounds a cluster's boot and a member's Restart when the
	// context has no earlier deadline; 0 means 30s. It does not cover a managed build.
	StartTimeout time.Duration
	// CallTimeout is the deadline the toolkit's clients (Client,
	// Member.Client, ClientLink.Client) give a call whose context has none,
	// so a call to a paused, killed or cut-off member fails the spec with
	// an error naming this field instead of hanging it. 0 means 10s, or
	// etcd's own request timeout (5s + 2 × ElectionTimeout) plus 1s when
	// that is longer: etcd's own answer ("request timed out", "no leader")
	// comes first whenever a member can give one. A call whose context has
	// a deadline keeps its own; streams (Watch, lease KeepAlive, Snapshot)
	// never get one. Clients you make from ClientConfig do not have it.
	CallTimeout time.Duration
	// DataDir is the parent directory of the cluster's data. "" means /dev/shm
	// (tmpfs) where it is writable, else os.TempDir(). The cluster's own
	// directory inside it is created 0700 and removed by Stop.
	DataDir string
	// Fsync keeps etcd's fsync on. By default it is off (--unsafe-no-fsync)
	// where the etcd version supports it: test data is disposable.
	Fsync bool
	// ExtraFlags are appended to every member's command line, e.g.
	// []string{"--auto-compaction-retention=1"}.
	ExtraFlags []string
	// LogOutput, if set, also receives every member's log, each line
	// prefixed with the member name. Member output never goes to the test
	// process's stdout or stderr unless you point LogOutput there.
	LogOutput io.Writer
	// LogLimit bounds the log kept in memory per member (Member.Logs); 0 means 1 MiB.
	LogLimit int
	// QuotaBytes is the backend quota, etcd's --quota-backend-bytes: once
	// a member's backend would grow past it, etcd raises the NOSPACE alarm
	// and refuses writes (see Cluster.ExhaustSpace and RecoverSpace). 0
	// means etcd's default, 2 GiB; otherwise at least MinQuotaBytes
	// (256 KiB). It has no effect against an external cluster.
	QuotaBytes int64

	// TLS turns on mutual TLS for client and peer traffic: a CA, a member
	// certificate and a client certificate (ECDSA P-256, for 127.0.0.1 and
	// localhost) are generated per cluster into its directory. Clients from
	// Client and Member.Client use them; see Cluster.ClientConfig and
	// Cluster.TLSFiles for your own clients. Clients without a certificate
	// signed by that CA are refused.
	TLS bool
	// Auth turns on etcd's authentication: once the cluster is ready, a
	// root user with a generated password is created and auth enabled.
	// Clients from Client and Member.Client log in as root; see
	// Cluster.ClientConfig for your own clients.
	Auth bool

	// Snapshot is the path of an etcd snapshot file (from Member.Snapshot
	// or etcdctl snapshot save) to boot the cluster from: Start restores
	// every member's data from it, with this cluster's own names, URLs and
	// cluster token, before the members start. Restoring runs etcdutl
	// (3.5+; the one next to the etcd binary, else a managed build of the
	// same release) or, for etcd 3.4, the etcdctl next to the binary
	// (Debian: etcd-client). Save snapshots of clusters without Auth: one
	// with auth on carries its users and passwords, which the new cluster's
	// clients do not know.
	Snapshot string

	// MemberVersions boots a mixed-version cluster: entry i is the etcd
	// release of member i ("v3.6.16", a managed build) or the path of an
	// etcd executable; "" and members past the end run the cluster's own
	// (Binary or Version). etcd runs the cluster at its lowest minor
	// release. Member.RestartOn changes one member's release later.
	MemberVersions []string

	// Spare keeps a warm spare: once a cluster of this config has started,
	// another one of the same config boots in the background, and the next
	// Start of an equal config (every field equal, after defaults) takes it
	// ready instead of booting — a fresh cluster for the cost of a
	// readiness check. A spare is checked again when it is handed over and
	// never shared between processes; it costs what a running cluster costs
	// (README "What it costs") for as long as the process runs or until it
	// has been idle for 30s. PerSpec sets it. It is ignored with LogOutput
	// (a spare's boot would log into it early), against an external
	// cluster, and when $ETCDTEST_SPARES is "0".
	Spare bool
}

// defaultStartTimeout is Config.StartTimeout's 0, for booted and external
// clusters alike.
const defaultStartTimeout = 30 * time.Second

var memberNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// withDefaults returns cfg with every zero field replaced by its default, or
// an error naming the field that is wrong and how to fix it.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Size < 0 {
		return cfg, fmt.Errorf("etcdtest: Config.Size is %d: a cluster needs at least 1 member (0 means the default, 3)", cfg.Size)
	}
	if cfg.Size == 0 {
		cfg.Size = 3
	}
	if cfg.Name == "" {
		cfg.Name = "node"
	}
	if !memberNameRE.MatchString(cfg.Name) {
		return cfg, fmt.Errorf("etcdtest: Config.Name %q is not a usable etcd member name: use letters, digits, '.', '_' or '-', starting with a letter or digit (members are named Name1..NameN)", cfg.Name)
	}
	if cfg.Version != "" {
		if _, err := provision.ParseVersion(cfg.Version); err != nil {
			return cfg, fmt.Errorf("etcdtest: Config.Version: %w", err)
		}
	}
	cfg, err := cfg.withTimingDefaults()
	if err != nil {
		return cfg, err
	}
	if err := validateQuota(cfg.QuotaBytes); err != nil {
		return cfg, err
	}
	if cfg.LogLimit <= 0 {
		cfg.LogLimit = 1 << 20
	}
	if cfg.DataDir == "" {
		cfg.DataDir = defaultDataParent()
	}
	if len(cfg.MemberVersions) > cfg.Size {
		return cfg, fmt.Errorf("etcdtest: Config.MemberVersions names %d members, but Config.Size is %d: give at most one entry per member", len(cfg.MemberVersions), cfg.Size)
	}
	for i, rel := range cfg.MemberVersions {
		if rel == "" || strings.ContainsRune(rel, '/') {
			continue
		}
		if _, err := provision.ParseVersion(rel); err != nil {
			return cfg, fmt.Errorf("etcdtest: Config.MemberVersions[%d]: %w", i, err)
		}
	}
	if cfg.Snapshot != "" {
		// Checked before anything is made, so a wrong path costs nothing.
		if fi, err := os.Stat(cfg.Snapshot); err != nil || !fi.Mode().IsRegular() {
			why := "is not a regular file"
			if err != nil {
				why = "cannot be read: " + err.Error()
			}
			return cfg, fmt.Errorf("etcdtest: Config.Snapshot %q %s; point it at a file saved by Member.Snapshot or etcdctl snapshot save", cfg.Snapshot, why)
		}
	}
	return cfg, nil
}

// withTimingDefaults is withDefaults for the timings: raft's heartbeat and
// election timeout, StartTimeout and CallTimeout.
func (cfg Config) withTimingDefaults() (Config, error) {
	if cfg.HeartbeatInterval < 0 || cfg.ElectionTimeout < 0 || cfg.StartTimeout < 0 {
		return cfg, fmt.Errorf("etcdtest: Config timings must not be negative (HeartbeatInterval %v, ElectionTimeout %v, StartTimeout %v)", cfg.HeartbeatInterval, cfg.ElectionTimeout, cfg.StartTimeout)
	}
	if cfg.HeartbeatInterval == 0 {
		cfg.HeartbeatInterval = 10 * time.Millisecond
	}
	if cfg.ElectionTimeout == 0 {
		cfg.ElectionTimeout = 10 * cfg.HeartbeatInterval
	}
	if cfg.HeartbeatInterval < time.Millisecond || cfg.HeartbeatInterval%time.Millisecond != 0 || cfg.ElectionTimeout%time.Millisecond != 0 {
		return cfg, fmt.Errorf("etcdtest: Config.HeartbeatInterval (%v) and ElectionTimeout (%v) must be whole milliseconds", cfg.HeartbeatInterval, cfg.ElectionTimeout)
	}
	if cfg.ElectionTimeout < 5*cfg.HeartbeatInterval {
		return cfg, fmt.Errorf("etcdtest: Config.ElectionTimeout (%v) must be at least 5 × HeartbeatInterval (%v), as etcd requires", cfg.ElectionTimeout, cfg.HeartbeatInterval)
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = defaultStartTimeout
	}
	if cfg.CallTimeout < 0 {
		return cfg, fmt.Errorf("etcdtest: Config.CallTimeout is %v: it must not be negative (0 means the default, %v; pass a context with a deadline to wait longer for one call)", cfg.CallTimeout, defaultCallTimeout(cfg.ElectionTimeout))
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = defaultCallTimeout(cfg.ElectionTimeout)
	}
	return cfg, nil
}

// defaultCallTimeout is Config.CallTimeout's default: 10s, longer than
// etcd's own request timeout (5s + 2 × election timeout, 5.2s with the
// default timing) so that etcd's own error wins whenever a member can
// answer at all, and short enough that a spec stuck on a frozen member
// fails well inside Ginkgo's and go test's timeouts. With a long
// ElectionTimeout it grows to stay above etcd's request timeout.
func defaultCallTimeout(electionTimeout time.Duration) time.Duration {
	return max(10*time.Second, 5*time.Second+2*electionTimeout+time.Second)
}

var (
	dataParentOnce sync.Once
	dataParent     string
)

// defaultDataParent prefers tmpfs: etcd's data is disposable, and memory is
// faster than any disk. It is probed once per process.
func defaultDataParent() string {
	dataParentOnce.Do(func() { dataParent = probeDataParent() })
	return dataParent
}

func probeDataParent() string {
	const shm = "/dev/shm"
	if fi, err := os.Stat(shm); err == nil && fi.IsDir() {
		if f, err := os.CreateTemp(shm, ".etcdtest-probe-*"); err == nil {
			f.Close()
			os.Remove(f.Name())
			return shm
		}
	}
	return os.TempDir()
}
