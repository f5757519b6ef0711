package proc

import (
	"errors"
	"strings"
	"testing"
)

// Windows gets the refusal, naming what is missing and the way out; every
// OS with process groups and signals gets none.
func TestCheckPlatform(t *testing.T) {
	err := CheckPlatform("windows")
	if !errors.Is(err, ErrPlatform) {
		t.Fatalf("CheckPlatform(windows) = %v, want ErrPlatform", err)
	}
	for _, want := range []string{"need a Unix-like OS", "process groups", "SIGSTOP", "flock", "set ETCDTEST_ENDPOINTS", "ErrExternal"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("CheckPlatform(windows) = %q, want it to say %q", err, want)
		}
	}
	for _, goos := range []string{"linux", "darwin", "freebsd", "netbsd", "openbsd", "illumos"} {
		if err := CheckPlatform(goos); err != nil {
			t.Errorf("CheckPlatform(%s) = %v, want nil", goos, err)
		}
	}
}
