package etcdtest_test

import (
	"context"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

var _ = Describe("Bad input", func() {
	var parent string // every case gets its own data parent, to prove nothing is left in it
	BeforeEach(func() {
		parent = GinkgoT().TempDir()
	})

	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(parent, name)
		Expect(os.WriteFile(p, []byte(content), mode)).To(Succeed())
		return p
	}

	DescribeTable("returns an error naming the cause and the fix, quickly, leaving nothing behind",
		func(ctx SpecContext, mkCfg func() etcdtest.Config, want ...string) {
			cfg := mkCfg()
			if cfg.DataDir == "" {
				cfg.DataDir = filepath.Join(parent, "data")
				Expect(os.Mkdir(cfg.DataDir, 0o700)).To(Succeed())
			}
			started := time.Now()
			c, err := etcdtest.Start(ctx, cfg)
			Expect(c).To(BeNil())
			Expect(err).To(HaveOccurred())
			for _, w := range want {
				Expect(err.Error()).To(ContainSubstring(w))
			}
			Expect(time.Since(started)).To(BeNumerically("<", 20*time.Second), "a bad input fails without waiting out a long timeout")
			Expect(processesUsing(parent)).To(BeEmpty(), "no member process survives")
			if fi, err := os.Stat(cfg.DataDir); err == nil && fi.IsDir() {
				left, _ := filepath.Glob(filepath.Join(cfg.DataDir, "etcdtest-*", "*"))
				Expect(left).To(BeEmpty(), "no data dir survives")
			}
		},
		Entry("a negative Size", func() etcdtest.Config { return etcdtest.Config{Size: -1} },
			"Config.Size is -1", "at least 1 member"),
		Entry("a name etcd rejects", func() etcdtest.Config { return etcdtest.Config{Name: "a=b,c"} },
			`Config.Name "a=b,c"`, "use letters, digits"),
		Entry("a malformed Version", func() etcdtest.Config { return etcdtest.Config{Version: "3.x"} },
			`"3.x" is not an etcd release`, `"v3.6.16"`),
		Entry("a minor Version with no pinned patch", func() etcdtest.Config { return etcdtest.Config{Version: "3.6"} },
			`"3.6" names a minor release`, `write the full release, like "3.6.0"`),
		Entry("a Version too old for a managed build", func() etcdtest.Config {
			GinkgoT().Setenv(etcdtest.EnvBinary, "") // a binary from the environment would win over Version
			return etcdtest.Config{Version: "v3.4.23"}
		},
			"managed builds start at v3.5", "ETCDTEST_BINARY=/usr/bin/etcd"),
		Entry("a missing binary", func() etcdtest.Config {
			return etcdtest.Config{Binary: filepath.Join(parent, "no-such-etcd")}
		}, "does not exist", "point Config.Binary at an etcd executable"),
		Entry("a binary that is not executable", func() etcdtest.Config {
			return etcdtest.Config{Binary: write("etcd", "#!/bin/sh\n", 0o644)}
		}, "is not executable", "chmod +x"),
		Entry("a binary that is a directory", func() etcdtest.Config {
			return etcdtest.Config{Binary: parent}
		}, "is a directory", "point Config.Binary at an etcd executable"),
		Entry("a binary that is not etcd", func() etcdtest.Config {
			return etcdtest.Config{Binary: write("fake-etcd", "#!/bin/sh\necho 'I am not etcd'\n", 0o755)}
		}, "is not etcd", "I am not etcd", "point Config.Binary at an etcd executable"),
		Entry("an etcd of an unsupported version", func() etcdtest.Config {
			return etcdtest.Config{Binary: write("old-etcd", "#!/bin/sh\necho 'etcd Version: 3.3.27'\n", 0o755)}
		}, "is etcd v3.3.27", "supported are 3.4, 3.5, 3.6 and 3.7"),
		Entry("a member that exits during boot", func() etcdtest.Config {
			return etcdtest.Config{Binary: binary, ExtraFlags: []string{"--no-such-flag"}}
		}, "exited during boot", "bad Config.ExtraFlags", "last lines of node", "no-such-flag"),
		Entry("a binary that says it is etcd, then exits with status 0", func() etcdtest.Config {
			return etcdtest.Config{Binary: write("quits", "#!/bin/sh\necho 'etcd Version: 3.7.3'\n", 0o755)}
		}, "exited during boot (with status 0 before serving", "is the binary etcd"),
		Entry("a start timeout", func() etcdtest.Config {
			return etcdtest.Config{Binary: binary, StartTimeout: 20 * time.Millisecond}
		}, "timed out after 20ms waiting for the cluster to become ready", "Raise Config.StartTimeout", "last lines of node1's log"),
		Entry("a data dir that is a file", func() etcdtest.Config {
			return etcdtest.Config{Binary: binary, DataDir: write("file", "", 0o600)}
		}, "is unusable", "set Config.DataDir to a writable directory"),
		Entry("bad timing", func() etcdtest.Config {
			return etcdtest.Config{HeartbeatInterval: 50 * time.Millisecond, ElectionTimeout: 100 * time.Millisecond}
		}, "must be at least 5 × HeartbeatInterval"),
	)

	It("refuses a context that is already done, leaving nothing behind", func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		dir := filepath.Join(parent, "data")
		c, err := etcdtest.Start(ctx, etcdtest.Config{Binary: binary, DataDir: dir})
		Expect(c).To(BeNil())
		Expect(err).To(MatchError(ContainSubstring("context canceled")))
		Expect(processesUsing(parent)).To(BeEmpty())
	})
})
