package certs

// The certificates of a cluster with Config.TLS: a CA made for the cluster,
// one certificate the members present both as servers and as peers'
// clients, and a client certificate. All are ECDSA P-256, valid for 30
// days, for loopback only, and written 0600 into the cluster's directory,
// which Stop removes.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Names of the generated files in the cluster's directory.
const (
	caFileName         = "ca.crt"
	clientCertFileName = "client.crt"
	clientKeyFileName  = "client.key"
	memberCertFileName = "member.crt"
	memberKeyFileName  = "member.key"
)

// ClientCN is the common name of the generated client certificate. It
// is deliberately not "root": with auth on, etcd takes a client
// certificate's common name as the user name when a request carries no
// credentials, so a certificate alone grants nothing.
const ClientCN = "etcdtest-client"

// A Set is a cluster's generated TLS material, in memory and on disk.
type Set struct {
	Pool           *x509.CertPool  // holding the CA alone
	Member, Client tls.Certificate // the members' (as servers and as peers' clients) and the client's
	// The files in the cluster's directory. CAFile, ClientCertFile and
	// ClientKeyFile are what users need to bring their own client.
	CAFile, ClientCertFile, ClientKeyFile string
	MemberCertFile, MemberKeyFile         string
}

// authority is a CA that issues certificates.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	der  []byte
}

// Generate makes a cluster's CA and certificates and writes them into dir,
// which must exist.
func Generate(dir string) (*Set, error) {
	ca, err := newAuthority("etcdtest CA " + filepath.Base(dir))
	if err != nil {
		return nil, err
	}
	// Members present one certificate as servers and as peers' clients.
	memberPEM, memberKey, err := ca.issue("etcdtest-member", x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, err
	}
	clientPEM, clientKey, err := ca.issue(ClientCN, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, err
	}
	cs := &Set{Pool: x509.NewCertPool()}
	cs.Pool.AddCert(ca.cert)
	if cs.Member, err = tls.X509KeyPair(memberPEM, memberKey); err != nil {
		return nil, err
	}
	if cs.Client, err = tls.X509KeyPair(clientPEM, clientKey); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		data []byte
		path *string
	}{
		{caFileName, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.der}), &cs.CAFile},
		{memberCertFileName, memberPEM, &cs.MemberCertFile},
		{memberKeyFileName, memberKey, &cs.MemberKeyFile},
		{clientCertFileName, clientPEM, &cs.ClientCertFile},
		{clientKeyFileName, clientKey, &cs.ClientKeyFile},
	} {
		*f.path = filepath.Join(dir, f.name)
		if err := os.WriteFile(*f.path, f.data, 0o600); err != nil {
			return nil, err
		}
	}
	return cs, nil
}

func newAuthority(name string) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &authority{cert: cert, key: key, der: der}, nil
}

// issue returns a certificate for loopback and its private key, in PEM.
func (a *authority) issue(cn string, usage ...x509.ExtKeyUsage) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
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
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
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

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

// ErrNoPEM says a CA file holds no PEM certificate.
var ErrNoPEM = errors.New("holds no PEM certificate")

// ClientTLS is the TLS configuration of a client that trusts the CA in
// caFile ("" for the system's roots) and presents the certificate in
// certFile with its key in keyFile ("" and "" for none). The errors say
// which file failed; the caller names where the path came from.
func ClientTLS(caFile, certFile, keyFile string) (cfg *tls.Config, which string, err error) {
	cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, "ca", err
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, "ca", ErrNoPEM
		}
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, "cert", err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, "", nil
}
