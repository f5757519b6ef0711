package etcdtest_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// seedScenario writes through member 0 and reads the value back through member 1.
func seedScenario(ctx context.Context, c *etcdtest.Cluster) {
	GinkgoHelper()
	Expect(c.Member(0).Key("/test").Put(ctx, "hello world")).To(Succeed())
	v, found, err := c.Member(1).Key("/test").Get(ctx)
	Expect(err).NotTo(HaveOccurred())
	Expect(found).To(BeTrue())
	Expect(v).To(Equal("hello world"))
}

// putSoon writes k, retrying with short deadlines: a write caught by the
// raft leader's death waits out etcd's request timeout (5 s), and a real
// client retries with a deadline.
func putSoon(ctx context.Context, k etcdtest.Key, value string) {
	GinkgoHelper()
	Eventually(func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		return k.Put(ctx, value)
	}).WithContext(ctx).WithTimeout(10 * time.Second).Should(Succeed())
}

// ownClient makes a client the way a user's code would, closed after the spec.
func ownClient(cfg clientv3.Config) (*clientv3.Client, error) {
	GinkgoHelper()
	cfg.Logger = zap.NewNop()
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 2 * time.Second
	}
	cli, err := clientv3.New(cfg)
	if err == nil {
		DeferCleanup(cli.Close)
	}
	return cli, err
}

// refused runs one request through cli with a short deadline and returns its error.
func refused(cli *clientv3.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := cli.Get(ctx, "/test")
	return err
}

var _ = Describe("A cluster with Config.TLS", func() {
	var c *etcdtest.Cluster
	BeforeEach(func() { c = start(etcdtest.Config{TLS: true}) })

	It("serves clients and peers over https and passes the seed scenario", func(ctx SpecContext) {
		for _, m := range c.Members() {
			Expect(m.ClientURL()).To(HavePrefix("https://127.0.0.1:"))
			Expect(m.PeerURL()).To(HavePrefix("https://127.0.0.1:"))
		}
		seedScenario(ctx, c)
	})

	It("keeps its CA, certificate and key in the cluster's directory, readable by the owner only", func() {
		ca, cert, key := c.TLSFiles()
		for _, f := range []string{ca, cert, key} {
			Expect(filepath.Dir(f)).To(Equal(c.Dir()))
			fi, err := os.Stat(f)
			Expect(err).NotTo(HaveOccurred())
			Expect(fi.Mode().Perm()).To(Equal(os.FileMode(0o600)))
		}
		pem, err := os.ReadFile(ca)
		Expect(err).NotTo(HaveOccurred())
		Expect(x509.NewCertPool().AppendCertsFromPEM(pem)).To(BeTrue())
		_, err = tls.LoadX509KeyPair(cert, key)
		Expect(err).NotTo(HaveOccurred())
	})

	It("serves a client the user builds from ClientConfig's TLS or from the files", func(ctx SpecContext) {
		cli, err := ownClient(clientv3.Config{Endpoints: c.Endpoints(), TLS: c.ClientConfig().TLS})
		Expect(err).NotTo(HaveOccurred())
		_, err = cli.Put(ctx, "/own", "v")
		Expect(err).NotTo(HaveOccurred())

		caFile, certFile, keyFile := c.TLSFiles()
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		Expect(err).NotTo(HaveOccurred())
		pem, err := os.ReadFile(caFile)
		Expect(err).NotTo(HaveOccurred())
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		cli, err = ownClient(clientv3.Config{Endpoints: c.Endpoints(), TLS: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}})
		Expect(err).NotTo(HaveOccurred())
		resp, err := cli.Get(ctx, "/own")
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.Kvs).To(HaveLen(1))
	})

	It("refuses a client without a client certificate, and a plain-text client", func() {
		noCert := c.ClientConfig().TLS
		noCert.Certificates = nil
		cli, err := ownClient(clientv3.Config{Endpoints: c.Endpoints(), TLS: noCert})
		Expect(err).NotTo(HaveOccurred())
		Expect(refused(cli)).To(HaveOccurred())

		plain := strings.Replace(c.Member(0).ClientURL(), "https://", "http://", 1)
		cli, err = ownClient(clientv3.Config{Endpoints: []string{plain}})
		Expect(err).NotTo(HaveOccurred())
		Expect(refused(cli)).To(HaveOccurred())
	})

	It("refuses a peer connection without a certificate from the cluster's CA", func() {
		noCert := c.ClientConfig().TLS
		noCert.Certificates = nil
		addr := strings.TrimPrefix(c.Member(1).PeerURL(), "https://")
		conn, err := tls.Dial("tcp", addr, noCert)
		if err == nil { // TLS 1.3: the server's verdict arrives with the first read
			conn.SetDeadline(time.Now().Add(2 * time.Second))
			_, err = conn.Write([]byte("GET /version HTTP/1.1\r\nHost: x\r\n\r\n"))
			if err == nil {
				_, err = conn.Read(make([]byte, 1))
			}
			conn.Close()
		}
		Expect(err).To(HaveOccurred())
	})

	It("keeps serving across a member's Kill and Restart", func(ctx SpecContext) {
		etcdtest.SkipIfExternal(c)
		Expect(c.Member(2).Kill()).To(Succeed())
		putSoon(ctx, c.Member(0).Key("/k"), "while down")
		Expect(c.Member(2).Restart(ctx)).To(Succeed())
		v, _, err := c.Member(2).Key("/k").Get(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(v).To(Equal("while down"))
	})
})

var _ = Describe("A cluster with Config.Auth", func() {
	var c *etcdtest.Cluster
	BeforeEach(func() { c = start(etcdtest.Config{Auth: true}) })

	It("has auth enabled with a root user, and its own clients log in", func(ctx SpecContext) {
		user, pass := c.ClientConfig().Username, c.ClientConfig().Password
		Expect(user).To(Equal("root"))
		Expect(pass).To(HaveLen(32))
		seedScenario(ctx, c)
		resp, err := c.Client().UserGet(ctx, "root") // AuthStatus needs etcd 3.5
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.Roles).To(ConsistOf("root"))
	})

	It("refuses a client without credentials or with a wrong password", func() {
		cli, err := ownClient(clientv3.Config{Endpoints: c.Endpoints()})
		Expect(err).NotTo(HaveOccurred())
		Expect(errors.Is(rpctypes.Error(refused(cli)), rpctypes.ErrUserEmpty)).To(BeTrue())

		_, err = ownClient(clientv3.Config{Endpoints: c.Endpoints(), Username: "root", Password: "wrong"})
		Expect(errors.Is(rpctypes.Error(err), rpctypes.ErrAuthFailed)).To(BeTrue(), "error: %v", err)
	})

	It("serves a client the user builds from ClientConfig", func(ctx SpecContext) {
		cli, err := ownClient(c.ClientConfig())
		Expect(err).NotTo(HaveOccurred())
		_, err = cli.Put(ctx, "/own", "v")
		Expect(err).NotTo(HaveOccurred())
	})

	It("keeps its clients logged in across a member's Restart", func(ctx SpecContext) {
		etcdtest.SkipIfExternal(c)
		Expect(c.Member(1).Restart(ctx)).To(Succeed())
		seedScenario(ctx, c)
		put, err := c.Member(0).Client().Put(ctx, "/test", "again")
		Expect(err).NotTo(HaveOccurred())
		w := c.Member(1).Client().Watch(ctx, "/test", clientv3.WithRev(put.Header.Revision))
		Eventually(w).WithTimeout(5 * time.Second).Should(Receive(Satisfy(func(r clientv3.WatchResponse) bool {
			return r.Err() == nil && len(r.Events) == 1 && string(r.Events[0].Kv.Value) == "again"
		})))
	})
})

var _ = Describe("A cluster with Config.TLS and Config.Auth", func() {
	It("refuses a client that has the certificate but no credentials, and serves one with both", func(ctx SpecContext) {
		c := start(etcdtest.Config{TLS: true, Auth: true})
		cli, err := ownClient(clientv3.Config{Endpoints: c.Endpoints(), TLS: c.ClientConfig().TLS})
		Expect(err).NotTo(HaveOccurred())
		Expect(refused(cli)).To(HaveOccurred())

		cli, err = ownClient(c.ClientConfig())
		Expect(err).NotTo(HaveOccurred())
		_, err = cli.Put(ctx, "/own", "v")
		Expect(err).NotTo(HaveOccurred())
		seedScenario(ctx, c)
	})
})
