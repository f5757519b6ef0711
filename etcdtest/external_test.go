package etcdtest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// externalReport is what an external-cluster child process reports: first
// after Start and its writes ("started"), then after the parent said go
// ("done").
type externalReport struct {
	Phase     string
	Prefix    string
	External  bool
	Version   string
	Members   []string // name=clientURL
	Pinned    []bool   // each member's client is pinned to that member
	FaultErrs []string // Kill, Pause, Restart, Isolate, Heal: each must be ErrExternal
	Visible   []string // keys (as the child sees them) before Reset
	AfterLen  int      // keys the child sees after Reset
	Err       string
}

// TestExternalChild is not a test of its own: specs re-run this test binary
// with ETCDTEST_EXTERNAL_CHILD set and ETCDTEST_ENDPOINTS naming a cluster
// the parent booted, to be a second "user" of that cluster in a process of
// its own. It writes JSON reports to stdout and waits for a line on stdin
// between its two phases.
func TestExternalChild(t *testing.T) {
	name := os.Getenv("ETCDTEST_EXTERNAL_CHILD")
	if name == "" {
		t.Skip("runs only as a child process of the etcdtest suite")
	}
	out := json.NewEncoder(os.Stdout)
	report := func(r externalReport) {
		os.Stdout.WriteString("\nREPORT ")
		out.Encode(r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	timeout, _ := time.ParseDuration(os.Getenv("ETCDTEST_EXTERNAL_CHILD_TIMEOUT"))
	c, err := etcdtest.Start(ctx, etcdtest.Config{StartTimeout: timeout})
	if err != nil {
		report(externalReport{Phase: "started", Err: err.Error()})
		return
	}
	defer c.Stop(ctx)
	r := externalReport{Phase: "started", Prefix: c.Prefix(), External: c.External(), Version: c.Version()}
	for _, m := range c.Members() {
		r.Members = append(r.Members, m.Name()+"="+m.ClientURL())
		eps := m.Client().Endpoints()
		r.Pinned = append(r.Pinned, len(eps) == 1 && eps[0] == m.ClientURL())
	}
	m := c.Member(len(c.Members()) - 1)
	_, fpErr := m.Failpoints(ctx)
	for _, err := range []error{m.Kill(), m.Pause(), m.Restart(ctx), c.Isolate(0), c.Heal(),
		fpErr, m.Failpoint(ctx, "raftAfterSave", "panic"), m.ClearFailpoint(ctx, "raftAfterSave"), m.WaitCrash(ctx),
		m.FlipBits(etcdtest.WALFile, 1, 1), m.Truncate(etcdtest.BackendFile, 1)} {
		if !errors.Is(err, etcdtest.ErrExternal) {
			r.FaultErrs = append(r.FaultErrs, fmt.Sprint(err))
		}
	}
	if err := c.Key("/owner").Put(ctx, name); err != nil {
		r.Err = err.Error()
	} else if err := m.Key("/via-member").Put(ctx, name); err != nil {
		r.Err = err.Error()
	}
	report(r)

	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return // the parent is gone
	}
	r = externalReport{Phase: "done"}
	resp, err := c.Client().Get(ctx, "\x00", clientv3.WithFromKey(), clientv3.WithKeysOnly())
	if err == nil {
		for _, kv := range resp.Kvs {
			r.Visible = append(r.Visible, string(kv.Key))
		}
		if err = c.Reset(ctx); err == nil {
			resp, err = c.Client().Get(ctx, "\x00", clientv3.WithFromKey(), clientv3.WithCountOnly())
		}
	}
	if err != nil {
		r.Err = err.Error()
	} else {
		r.AfterLen = int(resp.Count)
	}
	report(r)
}

// externalChild is a running TestExternalChild process.
type externalChild struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	reports chan externalReport
}

// startExternalChild runs TestExternalChild against c's endpoints with env
// added; it is killed after the spec if still running.
func startExternalChild(name string, c *etcdtest.Cluster, env ...string) *externalChild {
	GinkgoHelper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestExternalChild$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		"ETCDTEST_EXTERNAL_CHILD="+name,
		etcdtest.EnvEndpoints+"="+strings.Join(c.Endpoints(), ","))
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = GinkgoWriter
	stdin, err := cmd.StdinPipe()
	Expect(err).NotTo(HaveOccurred())
	stdout, err := cmd.StdoutPipe()
	Expect(err).NotTo(HaveOccurred())
	Expect(cmd.Start()).To(Succeed())
	ch := &externalChild{cmd: cmd, stdin: stdin, reports: make(chan externalReport, 2)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "REPORT "); ok {
				var r externalReport
				if json.Unmarshal([]byte(line), &r) == nil {
					ch.reports <- r
				}
			} else {
				fmt.Fprintln(GinkgoWriter, name+": "+sc.Text())
			}
		}
	}()
	DeferCleanup(func() {
		stdin.Close()
		cmd.Process.Kill() // our own child, by its pid
		cmd.Wait()
	})
	return ch
}

// next waits for the child's next report.
func (ch *externalChild) next() externalReport {
	GinkgoHelper()
	var r externalReport
	Eventually(ch.reports).WithTimeout(time.Minute).Should(Receive(&r))
	Expect(r.Err).To(BeEmpty())
	return r
}

// proceed lets the child go on to its next phase.
func (ch *externalChild) proceed() {
	GinkgoHelper()
	_, err := io.WriteString(ch.stdin, "go\n")
	Expect(err).NotTo(HaveOccurred())
}

// keysUnder lists the keys under prefix, as seen from the cluster's root.
func keysUnder(ctx context.Context, cli *clientv3.Client, prefix string) []string {
	GinkgoHelper()
	resp, err := cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	Expect(err).NotTo(HaveOccurred())
	var keys []string
	for _, kv := range resp.Kvs {
		keys = append(keys, string(kv.Key))
	}
	sort.Strings(keys)
	return keys
}

var _ = Describe("Against an external cluster ($ETCDTEST_ENDPOINTS)", func() {
	// The "external" cluster is one this spec boots, used by child
	// processes: the environment is process-wide, and each child is a
	// user of the cluster as another test process would be.
	BeforeEach(func() {
		if os.Getenv(etcdtest.EnvEndpoints) != "" {
			Skip("this suite itself runs against an external cluster")
		}
	})

	It("gives each process its own prefix; Reset and Stop touch nothing else; faults return ErrExternal", func(ctx SpecContext) {
		c := start(etcdtest.Config{})
		root := c.Client()
		_, err := root.Put(ctx, "/outside", "not yours")
		Expect(err).NotTo(HaveOccurred())

		a := startExternalChild("alice", c)
		b := startExternalChild("bob", c)
		ra, rb := a.next(), b.next()

		for _, r := range []externalReport{ra, rb} {
			Expect(r.External).To(BeTrue())
			Expect(r.Prefix).To(HavePrefix(etcdtest.DefaultPrefix))
			Expect(r.Version).To(Equal(c.Version()))
			Expect(r.FaultErrs).To(BeEmpty())
			var members []string
			for _, m := range c.Members() {
				members = append(members, m.Name()+"="+m.ClientURL())
			}
			Expect(r.Members).To(Equal(members))
			Expect(r.Pinned).To(HaveEach(BeTrue()))
		}
		Expect(ra.Prefix).NotTo(Equal(rb.Prefix))

		// Each child's keys land under its prefix, and nowhere else.
		Expect(keysUnder(ctx, root, ra.Prefix)).To(Equal([]string{ra.Prefix + "/owner", ra.Prefix + "/via-member"}))
		Expect(keysUnder(ctx, root, rb.Prefix)).To(Equal([]string{rb.Prefix + "/owner", rb.Prefix + "/via-member"}))
		resp, err := root.Get(ctx, ra.Prefix+"/owner")
		Expect(err).NotTo(HaveOccurred())
		Expect(string(resp.Kvs[0].Value)).To(Equal("alice"))
		resp, err = root.Get(ctx, "/owner")
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.Kvs).To(BeEmpty())

		// Alice sees only her own keys, and her Reset deletes only them.
		a.proceed()
		done := a.next()
		Expect(done.Visible).To(ConsistOf("/owner", "/via-member"))
		Expect(done.AfterLen).To(BeZero())
		Expect(keysUnder(ctx, root, ra.Prefix)).To(BeEmpty())
		Expect(keysUnder(ctx, root, rb.Prefix)).To(HaveLen(2))
		Expect(keysUnder(ctx, root, "/outside")).To(HaveLen(1))

		// Bob's Stop removes his keys and his run record, and nothing else.
		b.proceed()
		b.next()
		Eventually(b.cmd.Wait).WithTimeout(time.Minute).Should(Succeed())
		Expect(keysUnder(ctx, root, rb.Prefix)).To(BeEmpty())
		run := strings.TrimSuffix(strings.TrimPrefix(rb.Prefix, etcdtest.DefaultPrefix), "/")
		Expect(keysUnder(ctx, root, etcdtest.DefaultPrefix+".runs/"+run)).To(BeEmpty())
		Expect(keysUnder(ctx, root, "/outside")).To(HaveLen(1))
	})

	It("applies Config's defaults: a Snapshot whose context has no deadline gets StartTimeout (30 s), not 0", func(ctx SpecContext) {
		c := start(etcdtest.Config{})
		GinkgoT().Setenv(etcdtest.EnvEndpoints, strings.Join(c.Endpoints(), ","))
		ext, err := etcdtest.Start(ctx, etcdtest.Config{})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(ext.Stop, context.Background())
		path := filepath.Join(GinkgoT().TempDir(), "external.db")
		Expect(ext.Member(0).Snapshot(context.Background(), path)).To(Succeed())
		Expect(os.Stat(path)).To(HaveField("Size()", BeNumerically(">", 0)))
	}, SpecTimeout(time.Minute))

	It("sweeps the keys of a process that died without Stop", func(ctx SpecContext) {
		c := start(etcdtest.Config{})
		root := c.Client()
		// A run that died: recorded, with keys, but with no live lease.
		dead := etcdtest.DefaultPrefix + "deadhost-1-00000000/"
		_, err := root.Txn(ctx).Then(
			clientv3.OpPut(etcdtest.DefaultPrefix+".runs/deadhost-1-00000000", "then"),
			clientv3.OpPut(dead+"/left", "behind"),
		).Commit()
		Expect(err).NotTo(HaveOccurred())

		a := startExternalChild("alice", c)
		ra := a.next()
		Expect(keysUnder(ctx, root, dead)).To(BeEmpty())
		Expect(keysUnder(ctx, root, ra.Prefix)).To(HaveLen(2), "a live run is left alone")
	})

	It("uses TLS and credentials from the environment", func(ctx SpecContext) {
		c := start(etcdtest.Config{TLS: true, Auth: true})
		user, pass := c.ClientConfig().Username, c.ClientConfig().Password
		ca, cert, key := c.TLSFiles()
		a := startExternalChild("alice", c,
			etcdtest.EnvCACert+"="+ca, etcdtest.EnvCert+"="+cert, etcdtest.EnvKey+"="+key,
			etcdtest.EnvUser+"="+user, etcdtest.EnvPassword+"="+pass)
		ra := a.next()
		Expect(ra.External).To(BeTrue())
		Expect(keysUnder(ctx, c.Client(), ra.Prefix)).To(HaveLen(2))

		// Without the password the child cannot start, and says why.
		b := startExternalChild("bob", c,
			etcdtest.EnvCACert+"="+ca, etcdtest.EnvCert+"="+cert, etcdtest.EnvKey+"="+key)
		var rb externalReport
		Eventually(b.reports).WithTimeout(time.Minute).Should(Receive(&rb))
		Expect(rb.Err).To(ContainSubstring(etcdtest.EnvUser))
	})

	It("says how to fix an endpoint that does not answer", func(ctx SpecContext) {
		c := start(etcdtest.Config{TLS: true})
		// A TLS cluster, and no CA given: the server's certificate is not trusted.
		a := startExternalChild("alice", c, "ETCDTEST_EXTERNAL_CHILD_TIMEOUT=1s")
		var r externalReport
		Eventually(a.reports).WithTimeout(time.Minute).Should(Receive(&r))
		Expect(r.Err).To(And(ContainSubstring("does not answer"), ContainSubstring(etcdtest.EnvCACert)))
	})
})
