package provision

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every refusal says what is wrong with which setting, and the fix.
func TestInspectRefusesWhatIsNotASupportedEtcd(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "etcd")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fix := "point Config.Binary at an etcd executable (3.4 or later), or unset Config.Binary and $ETCDTEST_BINARY to use a managed build"
	for _, tc := range []struct {
		name string
		path string
		want []string
	}{
		{"missing", filepath.Join(dir, "no-such-etcd"), []string{"does not exist", fix}},
		{"not executable", notExec, []string{"is not executable (mode -rw-r--r--)", "chmod +x it", fix}},
		{"a directory", dir, []string{"is a directory, not an executable", fix}},
		{"not etcd", fakeEtcd(t, dir, "fake-etcd", "I am not etcd"),
			[]string{"is not etcd", `"fake-etcd --version" did not print "etcd Version: ..."`, `output: "I am not etcd"`, fix}},
		{"too old", fakeEtcd(t, dir, "old-etcd", etcdOutput("3.3.27")),
			[]string{"is etcd v3.3.27; supported are 3.4, 3.5, 3.6 and 3.7", fix}},
		{"too new", fakeEtcd(t, dir, "new-etcd", etcdOutput("4.0.0")), []string{"is etcd v4.0.0; supported are", fix}},
		{"unreadable version", fakeEtcd(t, dir, "odd-etcd", etcdOutput("three")),
			[]string{`reports an unreadable version "three"`, fix}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Inspect(context.Background(), tc.path, "Config.Binary")
			if err == nil {
				t.Fatalf("Inspect(%s) succeeded", tc.path)
			}
			for _, w := range append(tc.want, "etcdtest: ", "(from Config.Binary)") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestInspectReadsTheVersionAndFollowsAReplacedBinary(t *testing.T) {
	dir := t.TempDir()
	p := fakeEtcd(t, dir, "etcd", etcdOutput("3.5.21"))
	b, err := Inspect(context.Background(), p, "$ETCDTEST_BINARY")
	if err != nil || b.Path != p || b.Version != (Version{3, 5, 21}) {
		t.Fatalf("Inspect = %+v, %v; want %s at v3.5.21", b, err, p)
	}
	// Replaced by another release: the cache keyed by size and mtime must not answer.
	fakeEtcd(t, dir, "etcd", etcdOutput("3.6.16")+"\nextra line")
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(p, later, later); err != nil {
		t.Fatal(err)
	}
	b, err = Inspect(context.Background(), p, "$ETCDTEST_BINARY")
	if err != nil || b.Version != (Version{3, 6, 16}) {
		t.Fatalf("after replacing the binary Inspect = %+v, %v; want v3.6.16", b, err)
	}
}

func TestInspectMakesARelativePathAbsolute(t *testing.T) {
	dir := t.TempDir()
	fakeEtcd(t, dir, "etcd", etcdOutput("3.7.3"))
	t.Chdir(dir)
	b, err := Inspect(context.Background(), "./etcd", "Config.Binary")
	if err != nil || b.Path != filepath.Join(dir, "etcd") {
		t.Fatalf("Inspect(./etcd) = %+v, %v; want the absolute path %s", b, err, filepath.Join(dir, "etcd"))
	}
}

func TestInspectNamesABinaryThatDoesNotAnswerVersionInTime(t *testing.T) {
	old := versionTimeout
	versionTimeout = 200 * time.Millisecond
	defer func() { versionTimeout = old }()
	dir := t.TempDir()
	p := filepath.Join(dir, "slow-etcd")
	// exec: the shell becomes sleep, so killing it ends the script at once.
	if err := os.WriteFile(p, []byte("#!/bin/sh\necho starting\nexec sleep 30\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := Inspect(context.Background(), p, "Config.Binary")
	if err == nil {
		t.Fatal("Inspect of a binary that hangs on --version succeeded")
	}
	for _, w := range []string{"did not answer --version within 200ms", `output: "starting"`, "(from Config.Binary)", "point Config.Binary at an etcd executable"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q\ndoes not contain %q", err, w)
		}
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Inspect took %v; want about the timeout", took)
	}
	// The caller's own context ending is not the binary's fault.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = Inspect(ctx, p, "Config.Binary")
	if err == nil || strings.Contains(err.Error(), "did not answer --version within") {
		t.Errorf("with the caller's context ending first, error %v; want no blame on the binary's answer time", err)
	}
}
