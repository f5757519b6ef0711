package certs

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func generate(t *testing.T) (*Set, string) {
	t.Helper()
	dir := t.TempDir()
	set, err := Generate(dir)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return set, dir
}

func leaf(t *testing.T, c tls.Certificate) *x509.Certificate {
	t.Helper()
	cert, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// Each certificate chains to the cluster's CA for exactly the uses it is
// made for: the members' serves and dials peers, the client's only dials.
func TestCertificatesChainToTheCAForTheirUsesOnly(t *testing.T) {
	set, _ := generate(t)
	for _, tc := range []struct {
		name  string
		cert  tls.Certificate
		usage x509.ExtKeyUsage
		ok    bool
	}{
		{"member as server", set.Member, x509.ExtKeyUsageServerAuth, true},
		{"member as a peer's client", set.Member, x509.ExtKeyUsageClientAuth, true},
		{"client as client", set.Client, x509.ExtKeyUsageClientAuth, true},
		{"client as server", set.Client, x509.ExtKeyUsageServerAuth, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := leaf(t, tc.cert).Verify(x509.VerifyOptions{
				Roots: set.Pool, KeyUsages: []x509.ExtKeyUsage{tc.usage}, DNSName: "127.0.0.1",
			})
			if (err == nil) != tc.ok {
				t.Fatalf("verify: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// A certificate of one cluster means nothing to another's CA.
func TestEachSetHasItsOwnCA(t *testing.T) {
	a, _ := generate(t)
	b, _ := generate(t)
	_, err := leaf(t, a.Member).Verify(x509.VerifyOptions{Roots: b.Pool, DNSName: "127.0.0.1"})
	if err == nil {
		t.Fatal("one set's member certificate verifies against another set's CA")
	}
	if la, lb := leaf(t, a.Member), leaf(t, b.Member); la.SerialNumber.Cmp(lb.SerialNumber) == 0 {
		t.Fatalf("two certificates share serial %v", la.SerialNumber)
	}
}

// etcd checks a peer's client certificate against the address it dials
// from, and clients dial 127.0.0.1, ::1 or localhost; the certificates are
// for loopback and nothing else, and last the length of any test run.
func TestCertificatesNameLoopbackOnly(t *testing.T) {
	set, _ := generate(t)
	for _, c := range []tls.Certificate{set.Member, set.Client} {
		cert := leaf(t, c)
		for _, host := range []string{"127.0.0.1", "::1", "localhost"} {
			if err := cert.VerifyHostname(host); err != nil {
				t.Errorf("%s: %v", cert.Subject.CommonName, err)
			}
		}
		if err := cert.VerifyHostname("10.0.0.1"); err == nil {
			t.Errorf("%s is valid for 10.0.0.1, want loopback only", cert.Subject.CommonName)
		}
		if time.Until(cert.NotAfter) < 29*24*time.Hour || time.Since(cert.NotBefore) < 0 {
			t.Errorf("%s valid %v to %v, want from now for 30 days", cert.Subject.CommonName, cert.NotBefore, cert.NotAfter)
		}
	}
	// With auth on, etcd takes a client certificate's CN as the user name:
	// it must not be one that grants anything.
	if cn := leaf(t, set.Client).Subject.CommonName; cn != ClientCN || cn == "root" {
		t.Errorf("client CN %q, want %q", cn, ClientCN)
	}
}

// The files are what etcd's flags and a user's own client read: the same
// certificates as in memory, readable by the owner alone.
func TestFilesHoldTheSameCertificatesOwnerOnly(t *testing.T) {
	set, dir := generate(t)
	for _, f := range []string{set.CAFile, set.ClientCertFile, set.ClientKeyFile, set.MemberCertFile, set.MemberKeyFile} {
		if filepath.Dir(f) != dir {
			t.Errorf("%s is not in %s", f, dir)
		}
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	pair, err := tls.LoadX509KeyPair(set.ClientCertFile, set.ClientKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	pemCA, err := os.ReadFile(set.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemCA)
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !ca.IsCA || !ca.MaxPathLenZero {
		t.Errorf("CA file: IsCA=%v MaxPathLenZero=%v, want a CA that signs leaves only", ca.IsCA, ca.MaxPathLenZero)
	}
	if err := leaf(t, pair).CheckSignatureFrom(ca); err != nil {
		t.Errorf("the client certificate on disk is not signed by the CA on disk: %v", err)
	}
}

// A TLS handshake as etcd does it: the member serves and asks for a client
// certificate, the client presents its own.
func TestMutualTLSHandshake(t *testing.T) {
	set, _ := generate(t)
	server := &tls.Config{Certificates: []tls.Certificate{set.Member}, ClientCAs: set.Pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
	client := &tls.Config{Certificates: []tls.Certificate{set.Client}, RootCAs: set.Pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	errs := make(chan error, 1)
	go func() { errs <- tls.Server(a, server).Handshake() }()
	if err := tls.Client(b, client).Handshake(); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	if err := <-errs; err != nil {
		t.Fatalf("server handshake: %v", err)
	}
}

func TestGenerateIntoAMissingDirFails(t *testing.T) {
	if _, err := Generate(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("Generate into a missing directory succeeded")
	}
}

// A client's TLS from files: the generated ones load; a missing CA, a CA
// file that is not PEM and a certificate without its key name the file
// that failed.
func TestClientTLSFromFiles(t *testing.T) {
	dir := t.TempDir()
	s, err := Generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := ClientTLS(s.CAFile, s.ClientCertFile, s.ClientKeyFile)
	if err != nil || cfg.RootCAs == nil || len(cfg.Certificates) != 1 {
		t.Fatalf("the generated files: %v, %+v", err, cfg)
	}
	if cfg, _, err := ClientTLS("", "", ""); err != nil || cfg.RootCAs != nil || cfg.Certificates != nil {
		t.Errorf("no files: %v, %+v; want the system's roots and no certificate", err, cfg)
	}
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, ca, cert, key, which string
		noPEM                      bool
	}{
		{"a missing CA", filepath.Join(dir, "nope.pem"), "", "", "ca", false},
		{"a CA that is not PEM", notPEM, "", "", "ca", true},
		{"a certificate without its key", "", s.ClientCertFile, notPEM, "cert", false},
	} {
		_, which, err := ClientTLS(tc.ca, tc.cert, tc.key)
		if err == nil || which != tc.which || errors.Is(err, ErrNoPEM) != tc.noPEM {
			t.Errorf("%s: which %q, err %v", tc.name, which, err)
		}
	}
}
