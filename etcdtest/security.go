package etcdtest

// A cluster's security is made once, before any client or member needs
// it, and does not change after: the TLS material (generated for a booted
// cluster with Config.TLS, internal/certs; named by the environment for an
// external one) and the credentials clients log in with (a generated root
// password with Config.Auth; $ETCDTEST_USER for an external cluster). A
// booted cluster turns etcd's authentication on only once it is ready
// (enableAuth): until then its clients are made anonymous, on purpose.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/certs"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/host"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// security holds a cluster's TLS material and credentials. A nil
// *security means neither; its methods accept nil.
type security struct {
	// Files, in the cluster's directory (0600) or named by the environment.
	caFile, certFile, keyFile string // the client's: what users need to bring their own client
	memberCert, memberKey     string // the members': serving and peer certificate

	client *tls.Config // clients' config; nil without TLS
	peerIn *tls.Config // the peer proxy accepting members' connections
	peerTo *tls.Config // the peer proxy dialling its member

	user, password string // "" without auth
}

// newClusterSecurity makes what cfg asks for into dir: with TLS the
// certificates, with Auth a root password.
func newClusterSecurity(dir string, cfg Config) (*security, error) {
	s := &security{}
	if cfg.Auth {
		s.user, s.password = "root", host.RandomHex(16)
	}
	if !cfg.TLS {
		return s, nil
	}
	cs, err := certs.Generate(dir)
	if err != nil {
		return nil, fmt.Errorf("etcdtest: generate the cluster's TLS certificates in %s: %w", dir, err)
	}
	s.caFile, s.certFile, s.keyFile = cs.CAFile, cs.ClientCertFile, cs.ClientKeyFile
	s.memberCert, s.memberKey = cs.MemberCertFile, cs.MemberKeyFile
	s.client = &tls.Config{RootCAs: cs.Pool, Certificates: []tls.Certificate{cs.Client}, MinVersion: tls.VersionTLS12}
	s.peerIn = &tls.Config{Certificates: []tls.Certificate{cs.Member}, ClientCAs: cs.Pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
	s.peerTo = &tls.Config{Certificates: []tls.Certificate{cs.Member}, RootCAs: cs.Pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	return s, nil
}

// externalSecurity reads the TLS and credential settings of an external
// cluster from the environment.
func externalSecurity(eps []string) (*security, error) {
	s := &security{
		caFile:   os.Getenv(EnvCACert),
		certFile: os.Getenv(EnvCert),
		keyFile:  os.Getenv(EnvKey),
		user:     os.Getenv(EnvUser),
		password: os.Getenv(EnvPassword),
	}
	if s.user == "" && s.password != "" {
		return nil, fmt.Errorf("etcdtest: $%s is set but $%s is not: set both to log in, or neither", EnvPassword, EnvUser)
	}
	if (s.certFile == "") != (s.keyFile == "") {
		return nil, fmt.Errorf("etcdtest: $%s and $%s go together (a client certificate and its key); set both or neither", EnvCert, EnvKey)
	}
	https := false
	for _, e := range eps {
		https = https || strings.HasPrefix(e, "https://") || strings.HasPrefix(e, "unixs://")
	}
	if !https && s.caFile == "" && s.certFile == "" {
		return s, nil
	}
	cfg, which, err := certs.ClientTLS(s.caFile, s.certFile, s.keyFile)
	switch {
	case which == "ca" && errors.Is(err, certs.ErrNoPEM):
		return nil, fmt.Errorf("etcdtest: $%s=%s holds no PEM certificate", EnvCACert, s.caFile)
	case which == "ca":
		return nil, fmt.Errorf("etcdtest: read the CA of $%s: %w", EnvCACert, err)
	case which == "cert":
		return nil, fmt.Errorf("etcdtest: load the client certificate of $%s and $%s: %w", EnvCert, EnvKey, err)
	}
	s.client = cfg
	return s, nil
}

// tls reports whether the cluster's traffic is TLS.
func (s *security) tls() bool { return s != nil && s.client != nil }

// scheme is the URL scheme of the cluster's client and peer URLs.
func (s *security) scheme() string {
	if s.tls() {
		return "https"
	}
	return "http"
}

// TLSFiles returns the paths of the PEM files a client configured by files
// needs (etcdctl --cacert, --cert, --key): the CA that signed the members'
// certificates, and the client certificate and its private key. Each is ""
// when there is none (no TLS; an external cluster without a client
// certificate). Generated files live in the cluster's directory and are
// removed by Stop.
//
//	ca, cert, key := cluster.TLSFiles()
func (c *Cluster) TLSFiles() (ca, cert, key string) {
	if s := c.core().sec; s != nil {
		return s.caFile, s.certFile, s.keyFile
	}
	return "", "", ""
}

// enableAuth turns etcd's authentication on (Config.Auth) once the cluster
// is ready — readiness is checked by anonymous clients, before there is a
// user — then replaces every client of the cluster by one that logs in as
// root.
func (l *local) enableAuth(ctx context.Context) error {
	if l.sec.user == "" {
		return nil
	}
	fail := func(step string, err error) error {
		return fmt.Errorf("etcdtest: enable auth (Config.Auth): %s: %w", step, err)
	}
	cl := l.client
	if _, err := cl.RoleAdd(ctx, "root"); err != nil && !errors.Is(err, rpctypes.ErrRoleAlreadyExist) {
		return fail("add role root", err)
	}
	if _, err := cl.UserAdd(ctx, l.sec.user, l.sec.password); err != nil {
		return fail("add user root", err)
	}
	if _, err := cl.UserGrantRole(ctx, l.sec.user, "root"); err != nil {
		return fail("grant role root to user root", err)
	}
	if _, err := cl.AuthEnable(ctx); err != nil {
		return fail("auth enable", err)
	}
	// Each login is a raft round trip; connect logs in at once.
	if err := l.connect(credentials); err != nil {
		return fail("log in as root", err)
	}
	return nil
}
