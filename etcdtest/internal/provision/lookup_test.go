package provision

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// The documented order: Config.Binary, $ETCDTEST_BINARY, then a managed
// build of Config.Version, $ETCDTEST_VERSION, DefaultVersion. The managed
// builds here are fakes already in the cache, so nothing is built.
func TestResolveFollowsTheDocumentedOrder(t *testing.T) {
	for _, tc := range []struct {
		name            string
		binary, version string // the Config fields
		envBin, envVer  string // the environment
		want            string // which fake answers: "binary", "env", or a cached release
	}{
		{name: "Config.Binary wins over everything", binary: "binary", envBin: "env", version: "v3.6.16", envVer: "v3.5.21", want: "binary"},
		{name: "$ETCDTEST_BINARY wins over any Version", envBin: "env", version: "v3.6.16", envVer: "v3.5.21", want: "env"},
		{name: "Config.Version wins over $ETCDTEST_VERSION", version: "v3.6.16", envVer: "v3.5.21", want: "v3.6.16"},
		{name: "Config.Version without the v", version: "3.6.16", want: "v3.6.16"},
		{name: "$ETCDTEST_VERSION when Config.Version is empty", envVer: "v3.5.21", want: "v3.5.21"},
		{name: "DefaultVersion when nothing names one", want: DefaultVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cache := isolate(t)
			dir := t.TempDir()
			paths := map[string]string{
				"binary": fakeEtcd(t, filepath.Join(dir, "binary"), "etcd", etcdOutput("3.4.23")),
				"env":    fakeEtcd(t, filepath.Join(dir, "env"), "etcd", etcdOutput("3.5.0")),
			}
			for _, v := range []string{"v3.6.16", "v3.5.21", DefaultVersion} {
				paths[v] = cached(t, cache, v)
			}
			if tc.binary != "" {
				tc.binary = paths[tc.binary]
			}
			if tc.envBin != "" {
				t.Setenv(EnvBinary, paths[tc.envBin])
			}
			t.Setenv(EnvVersion, tc.envVer)
			b, err := Resolve(context.Background(), tc.binary, tc.version, false)
			if err != nil {
				t.Fatal(err)
			}
			if b.Path != paths[tc.want] {
				t.Errorf("Resolve = %s; want %s (%s)", b.Path, paths[tc.want], tc.want)
			}
		})
	}
}

// An error names the setting the bad value came from and what to do.
func TestResolveErrorsNameTheSettingAndTheFix(t *testing.T) {
	for _, tc := range []struct {
		name            string
		binary, version string
		envBin, envVer  string
		want            []string
	}{
		{name: "a malformed Config.Version", version: "3.x",
			want: []string{`etcdtest: Config.Version: "3.x" is not an etcd release: write it like "v3.6.16" or "3.6.16"`}},
		{name: "a malformed $ETCDTEST_VERSION", envVer: "latest",
			want: []string{`etcdtest: $ETCDTEST_VERSION: "latest" is not an etcd release`}},
		{name: "a Config.Version too old for a managed build", version: "3.4.23",
			want: []string{"etcdtest: Config.Version asks for etcd v3.4.23, but managed builds start at v3.5 (go.etcd.io/etcd/server/v3); " +
				"for etcd 3.4 install it (Debian: apt-get install etcd-server) and set ETCDTEST_BINARY=/usr/bin/etcd"}},
		{name: "a $ETCDTEST_VERSION too old", envVer: "v3.3.1",
			want: []string{"etcdtest: $ETCDTEST_VERSION asks for etcd v3.3.1, but managed builds start at v3.5"}},
		{name: "a missing $ETCDTEST_BINARY", envBin: "/nonexistent",
			want: []string{`etcdtest: etcd binary "/nonexistent" (from $ETCDTEST_BINARY) does not exist: point $ETCDTEST_BINARY at an etcd executable`}},
		{name: "a missing Config.Binary", binary: "/nonexistent", envBin: "/also-nonexistent",
			want: []string{`"/nonexistent" (from Config.Binary) does not exist: point Config.Binary at`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			t.Setenv(EnvBinary, tc.envBin)
			t.Setenv(EnvVersion, tc.envVer)
			_, err := Resolve(context.Background(), tc.binary, tc.version, false)
			if err == nil {
				t.Fatal("Resolve succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}
