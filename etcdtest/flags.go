package etcdtest

import (
	"path/filepath"
	"strconv"
	"strings"
)

// args is member m's command line, adapted to the etcd version.
func (l *local) args(m *Member) []string {
	// A member that joins a running cluster (AddMember) names the members
	// at the time it was added; one of a new cluster, every member. Once a
	// member has data, etcd ignores both.
	initial, state := m.joinedWith, "existing"
	if initial == "" {
		state = "new"
		var peers []string
		for _, o := range l.members() {
			peers = append(peers, o.name+"="+o.PeerURL())
		}
		initial = strings.Join(peers, ",")
	}
	cfg := l.cfg
	a := []string{
		"--name=" + m.name,
		"--data-dir=" + m.dataDir,
		"--listen-client-urls=" + m.ClientURL(),
		"--advertise-client-urls=" + m.ClientURL(),
		"--listen-peer-urls=" + l.sec.scheme() + "://127.0.0.1:" + strconv.Itoa(m.peerPort),
		"--initial-advertise-peer-urls=" + m.PeerURL(),
		"--initial-cluster=" + initial,
		"--initial-cluster-token=" + l.token,
		"--initial-cluster-state=" + state,
		"--heartbeat-interval=" + strconv.FormatInt(cfg.HeartbeatInterval.Milliseconds(), 10),
		"--election-timeout=" + strconv.FormatInt(cfg.ElectionTimeout.Milliseconds(), 10),
		"--logger=zap",
		"--log-outputs=stderr",
		// etcd refuses membership changes until the leader has been
		// connected to its peers for 5 s (HealthInterval), which is every
		// change right after a boot or a fault in a test. etcd's own
		// integration framework turns the check off too; ExtraFlags can
		// turn it back on (the last flag wins).
		"--strict-reconfig-check=false",
	}
	if l.walDir != "" {
		a = append(a, "--wal-dir="+filepath.Join(l.walDir, m.name))
	}
	if !cfg.Fsync && m.bin.Version.AtLeast(3, 5) {
		a = append(a, "--unsafe-no-fsync") // since 3.5
	}
	if l.sec.tls() {
		s := l.sec
		a = append(a,
			"--cert-file="+s.memberCert, "--key-file="+s.memberKey,
			"--trusted-ca-file="+s.caFile, "--client-cert-auth",
			"--peer-cert-file="+s.memberCert, "--peer-key-file="+s.memberKey,
			"--peer-trusted-ca-file="+s.caFile, "--peer-client-cert-auth",
		)
	}
	if cfg.Auth {
		// etcd hashes passwords with bcrypt on every login (the client
		// logs in again for each watch); the default cost 10 makes that
		// ~50 ms of CPU. 4 is the minimum etcd accepts (3.4 and later).
		a = append(a, "--bcrypt-cost=4")
	}
	if cfg.QuotaBytes > 0 {
		// One name and meaning from 3.4 to 3.7.
		a = append(a, "--quota-backend-bytes="+strconv.FormatInt(cfg.QuotaBytes, 10))
	}
	return append(a, cfg.ExtraFlags...)
}
