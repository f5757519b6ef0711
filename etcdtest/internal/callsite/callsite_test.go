package callsite

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

func TestToolkitIsTheModulesNonTestCode(t *testing.T) {
	tests := []struct {
		fn, file string
		want     bool
	}{
		{module + "etcdtest.(*Cluster).Isolate", "/src/etcdtest/network.go", true},
		{module + "chaos.Run.func1", "/src/chaos/run.go", true},
		{module + "etcdtest_test.init.func3", "/src/etcdtest/newcomer_test.go", false}, // the module's own specs are user code
		{module + "examples/partition_test.glob..func1", "/src/examples/partition/partition_test.go", false},
		{"github.com/me/app.TestCache", "/home/me/app/cache_test.go", false},
		{"github.com/me/app.(*Cache).Sync", "/home/me/app/cache.go", false},
		{"github.com/etcd-test-cluster/etcd-test-clusterX.F", "/x/f.go", false}, // near miss of the prefix
	}
	for _, tc := range tests {
		if got := toolkit(tc.fn, tc.file); got != tc.want {
			t.Errorf("toolkit(%q, %q) = %v; want %v", tc.fn, tc.file, got, tc.want)
		}
	}
}

func TestShortName(t *testing.T) {
	tests := []struct{ fn, want string }{
		{module + "etcdtest.(*Cluster).Isolate", "Cluster.Isolate"},
		{module + "etcdtest.(*Member).Kill", "Member.Kill"},
		{module + "etcdtest.Key.Put", "Key.Put"}, // a value receiver has no parentheses in the runtime's name
		{module + "etcdtest.(Key).Put", "Key.Put"},
		{module + "chaos.Run.func1.2", "chaos.Run"},
		{module + "etcdtest/internal/clients.call[...]", "clients.call"},
	}
	for _, tc := range tests {
		if got := shortName(tc.fn); got != tc.want {
			t.Errorf("shortName(%q) = %q; want %q", tc.fn, got, tc.want)
		}
	}
}

func TestExported(t *testing.T) {
	for name, want := range map[string]bool{"Cluster.Isolate": true, "Member.signal": false, "chaos.Run": true, "clients.call": false, "": false} {
		if got := exported(name); got != want {
			t.Errorf("exported(%q) = %v; want %v", name, got, want)
		}
	}
}

func TestUserCodeExcludesTheRuntimeAndTestFrameworks(t *testing.T) {
	for fn, want := range map[string]bool{
		"runtime.goexit":  false,
		"testing.tRunner": false,
		"github.com/onsi/ginkgo/v2/internal.(*Suite).runNode.func3": false,
		"github.com/me/app.TestCache":                               true,
		"main.main":                                                 true,
		"":                                                          false,
	} {
		if got := userCode(fn); got != want {
			t.Errorf("userCode(%q) = %v; want %v", fn, got, want)
		}
	}
}

// Find called straight from a test: the test is user code, and no toolkit
// function stands between, so nothing is named.
func TestFindFromUserCodeNamesNoCall(t *testing.T) {
	if s := Find(); s.Known() || s.String() != "" {
		t.Errorf("Find() from a test = %+v (%q); want a zero Site", s, s)
	}
}

// Find called through Outer, a toolkit function of this package's
// non-test code, names it and the test's line.
func TestFindNamesTheToolkitCallAndTheUsersLine(t *testing.T) {
	_, file, line, _ := runtime.Caller(0)
	s := Outer() // the line below runtime.Caller's
	if s.Call != "callsite.Outer" {
		t.Errorf("Call = %q; want callsite.Outer", s.Call)
	}
	if s.Location.FileName != file || s.Location.LineNumber != line+1 {
		t.Errorf("Location = %v; want %s:%d", s.Location, file, line+1)
	}
	if want := "callsite.Outer at " + file; !strings.HasPrefix(s.String(), want) {
		t.Errorf("String() = %q; want it to start with %q", s, want)
	}
}

// On a goroutine the toolkit started, there is no user line.
func TestFindOnAToolkitGoroutineHasNoLocation(t *testing.T) {
	ch := make(chan Site)
	go GoOuter(ch)
	s := <-ch
	if s.Call != "callsite.GoOuter" || s.Location.FileName != "" || s.String() != "callsite.GoOuter" {
		t.Errorf("Find() on a toolkit goroutine = %+v (%q); want the call and no location", s, s)
	}
}

func TestARecordNamesTheCallsThatMadeAFaultUntilItIsLifted(t *testing.T) {
	var r Record
	if got := r.By(); got != "" {
		t.Errorf("an empty Record says %q; want nothing", got)
	}
	_, file, line, _ := runtime.Caller(0)
	NoteOuter(&r, true)
	NoteOuter(&r, true)
	want := fmt.Sprintf(" by callsite.NoteOuter at %s:%d, callsite.NoteOuter at %s:%d", file, line+1, file, line+2)
	if got := r.By(); got != want {
		t.Errorf("By() = %q; want %q", got, want)
	}
	for range 2 * maxSites {
		NoteOuter(&r, true)
	}
	if n := strings.Count(r.By(), "callsite.NoteOuter at"); n != maxSites {
		t.Errorf("a Record names %d calls; want at most %d", n, maxSites)
	}
	NoteOuter(&r, false)
	if got := r.By(); got != "" {
		t.Errorf("after the fault is lifted, By() = %q; want nothing", got)
	}
}
