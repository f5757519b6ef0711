package etcdtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// security holds a cluster's TLS material and credentials. Against a
// booted cluster it is generated per cluster (Config.TLS, Config.Auth);
// against an external one it comes from the environment (see external.go).
type security struct {
	// Files, in the cluster's directory (0600) or named by the environment.
	caFile, certFile, keyFile string // the client's: what users need to bring their own client
	serverCert, serverKey     string // the members': serving and peer certificate

	client *tls.Config // clients' config; nil without TLS
	peerIn *tls.Config // the peer proxy accepting members' connections
	peerTo *tls.Config // the peer proxy dialling its member

	user, password string
	authOn         bool // auth is enabled: clients log in
}

// Names of the generated files in the cluster's directory.
const (
	caFileName         = "ca.crt"
	clientCertFileName = "client.crt"
	clientKeyFileName  = "client.key"
	serverCertFileName = "member.crt"
	serverKeyFileName  = "member.key"
)

// clientCertCN is the common name of the generated client certificate. It
// is deliberately not "root": with auth on, etcd takes a client
// certificate's common name as the user name when a request carries no
// credentials, so a certificate alone grants nothing.
const clientCertCN = "etcdtest-client"

// newClusterSecurity generates what cfg asks for into dir: with TLS a CA, a
// certificate the members use for client and peer traffic, and a client
// certificate; with Auth a root password.
func newClusterSecurity(dir string, cfg Config) (*security, error) {
	s := &security{}
	if cfg.Auth {
		s.user, s.password = "root", randomHex(16)
	}
	if !cfg.TLS {
		return s, nil
	}
	fail := func(err error) (*security, error) {
		return nil, fmt.Errorf("etcdtest: generate the cluster's TLS certificates in %s: %w", dir, err)
	}
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fail(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "etcdtest CA " + filepath.Base(dir)},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return fail(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return fail(err)
	}
	issue := func(cn string, usage ...x509.ExtKeyUsage) (certPEM, keyPEM []byte, err error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: serial(),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(30 * 24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  usage,
			// etcd checks a peer's client certificate against the address
			// it connects from, so every certificate names loopback.
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
			DNSNames:    []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return nil, nil, err
		}
		k, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k}), nil
	}
	// Members present one certificate as servers and as peers' clients.
	srvCert, srvKey, err := issue("etcdtest-member", x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return fail(err)
	}
	cliCert, cliKey, err := issue(clientCertCN, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return fail(err)
	}
	files := []struct {
		name string
		data []byte
		dst  *string
	}{
		{caFileName, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), &s.caFile},
		{serverCertFileName, srvCert, &s.serverCert},
		{serverKeyFileName, srvKey, &s.serverKey},
		{clientCertFileName, cliCert, &s.certFile},
		{clientKeyFileName, cliKey, &s.keyFile},
	}
	for _, f := range files {
		*f.dst = filepath.Join(dir, f.name)
		if err := os.WriteFile(*f.dst, f.data, 0o600); err != nil {
			return fail(err)
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	srv, err := tls.X509KeyPair(srvCert, srvKey)
	if err != nil {
		return fail(err)
	}
	cli, err := tls.X509KeyPair(cliCert, cliKey)
	if err != nil {
		return fail(err)
	}
	s.client = &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cli}, MinVersion: tls.VersionTLS12}
	s.peerIn = &tls.Config{Certificates: []tls.Certificate{srv}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
	s.peerTo = &tls.Config{Certificates: []tls.Certificate{srv}, RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	return s, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

// tlsOn reports whether the cluster's traffic is TLS.
func (c *Cluster) tlsOn() bool { return c.sec != nil && c.sec.client != nil }

// scheme is the URL scheme of the cluster's client and peer URLs.
func (c *Cluster) scheme() string {
	if c.tlsOn() {
		return "https"
	}
	return "http"
}

// peerServerConn terminates a member's TLS connection to a peer proxy, so
// the proxy reads the plain HTTP inside (see peerProxy: bootstrap probes
// must be answered at once; with TLS passed through they would stall boots).
// Without TLS it returns conn as it is.
func (c *Cluster) peerServerConn(conn net.Conn) net.Conn {
	if !c.tlsOn() {
		return conn
	}
	return tls.Server(conn, c.sec.peerIn)
}

// peerBackendConn wraps a peer proxy's connection to its member in TLS
// when the cluster uses it. conn may be nil.
func (c *Cluster) peerBackendConn(conn net.Conn) net.Conn {
	if conn == nil || !c.tlsOn() {
		return conn
	}
	return tls.Client(conn, c.sec.peerTo)
}

// enableAuth turns etcd's authentication on once the cluster is ready
// (readiness checks run before, without credentials), then replaces every
// client of the cluster by one that logs in as root.
func (c *Cluster) enableAuth(ctx context.Context) error {
	if c.sec == nil || c.sec.user == "" || c.sec.authOn {
		return nil
	}
	fail := func(step string, err error) error {
		return fmt.Errorf("etcdtest: enable auth (Config.Auth): %s: %w", step, err)
	}
	cl := c.client
	if _, err := cl.RoleAdd(ctx, "root"); err != nil && !errors.Is(err, rpctypes.ErrRoleAlreadyExist) {
		return fail("add role root", err)
	}
	if _, err := cl.UserAdd(ctx, c.sec.user, c.sec.password); err != nil {
		return fail("add user root", err)
	}
	if _, err := cl.UserGrantRole(ctx, c.sec.user, "root"); err != nil {
		return fail("grant role root to user root", err)
	}
	if _, err := cl.AuthEnable(ctx); err != nil {
		return fail("auth enable", err)
	}
	c.sec.authOn = true

	// Log in with fresh clients; each login is a raft round trip.
	old := append([]*clientv3.Client{c.client}, make([]*clientv3.Client, len(c.members))...)
	for i, m := range c.members {
		old[i+1] = m.client
	}
	fresh := make([]*clientv3.Client, len(old))
	errs := make([]error, len(old))
	var wg sync.WaitGroup
	for i := range old {
		wg.Add(1)
		go func() {
			defer wg.Done()
			eps := c.endpoints()
			if i > 0 {
				eps = []string{c.members[i-1].ClientURL()}
			}
			fresh[i], errs[i] = c.newClient(eps)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, f := range fresh {
			if f != nil {
				f.Close()
			}
		}
		return fail("log in as root", err)
	}
	c.client = fresh[0]
	for i, m := range c.members {
		m.client = fresh[i+1]
	}
	for _, o := range old {
		o.Close()
	}
	return nil
}

// TLSConfig returns the TLS configuration a client of this cluster needs:
// the cluster's CA and the client certificate. It is nil when the cluster
// does not use TLS (Config.TLS off, or an external cluster without TLS
// settings). Each call returns a new copy.
//
//	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), TLS: c.TLSConfig()})
func (c *Cluster) TLSConfig() *tls.Config {
	c.mustBeStarted()
	if c.sec == nil || c.sec.client == nil {
		return nil
	}
	return c.sec.client.Clone()
}

// CAFile returns the path of the PEM file of the CA that signed the
// members' certificates, for clients configured by files (etcdctl
// --cacert). It is "" without TLS. A generated file lives in the cluster's
// directory and is removed by Stop.
func (c *Cluster) CAFile() string {
	c.mustBeStarted()
	if c.sec == nil {
		return ""
	}
	return c.sec.caFile
}

// CertFile returns the path of the client certificate (PEM; etcdctl
// --cert), or "" without one.
func (c *Cluster) CertFile() string {
	c.mustBeStarted()
	if c.sec == nil {
		return ""
	}
	return c.sec.certFile
}

// KeyFile returns the path of the client certificate's private key (PEM;
// etcdctl --key), or "" without one.
func (c *Cluster) KeyFile() string {
	c.mustBeStarted()
	if c.sec == nil {
		return ""
	}
	return c.sec.keyFile
}

// Credentials returns the user name and password clients log in with:
// root and a generated password with Config.Auth, the configured ones
// against an external cluster, or two empty strings without auth.
func (c *Cluster) Credentials() (user, password string) {
	c.mustBeStarted()
	if c.sec == nil {
		return "", ""
	}
	return c.sec.user, c.sec.password
}

// ClientConfig returns a configuration for a client of all members, with
// the cluster's TLS and credentials, for tests that need their own client
// (one per simulated process, say). The caller closes the client it makes.
// Against an external cluster, keys must stay under Prefix(): wrap the
// client with go.etcd.io/etcd/client/v3/namespace.
//
// Like the toolkit's own clients, such a client is quiet (Logger is
// zap.NewNop(): no JSON warnings in the spec's output during faults),
// reconnects within milliseconds after a member comes back, and sends
// gRPC keep-alives, so a stream (a Watch, a lease KeepAlive) that is
// stuck on a frozen member is closed and retried elsewhere within about
// 12s. Set Logger to see its logs.
//
// Unlike the toolkit's clients, its calls get no default deadline
// (Config.CallTimeout): that deadline is set on the client clientv3.New
// returns, which a Config cannot carry, and a gRPC interceptor in
// DialOptions would only bound each of clientv3's up to 100 retries of a
// call, not the call. Give its calls a context with a deadline.
func (c *Cluster) ClientConfig() clientv3.Config {
	c.mustBeStarted()
	return c.clientConfig(c.endpoints())
}
