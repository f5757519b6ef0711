package callsite

import (
	"runtime"
	"strings"

	"github.com/onsi/ginkgo/v2/types"
)

// module is the import path prefix of the toolkit's packages.
const module = "github.com/etcd-test-cluster/etcd-test-cluster/"

// Site is where a toolkit call came from.
type Site struct {
	Call     string             // the outermost exported toolkit function, "Cluster.Isolate"; "" when none was found
	Location types.CodeLocation // the user's line that called it; zero when it is not known
}

// Known reports whether s names a call.
func (s Site) Known() bool { return s.Call != "" }

// String returns "Cluster.Isolate at file:line", "Cluster.Isolate" when the
// user's line is not known, and "" for a zero Site.
func (s Site) String() string {
	if s.Location.FileName == "" {
		return s.Call
	}
	return s.Call + " at " + s.Location.String()
}

// Find returns the site of the toolkit call running on this goroutine.
func Find() Site {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(2, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	var s Site
	for {
		f, more := frames.Next()
		if !toolkit(f.Function, f.File) {
			if userCode(f.Function) && s.Call != "" {
				s.Location = types.CodeLocation{FileName: f.File, LineNumber: f.Line}
			}
			return s
		}
		if name := shortName(f.Function); exported(name) {
			s.Call = name
		}
		if !more {
			return s
		}
	}
}

// toolkit reports whether the frame of function fn in file is the
// toolkit's own code: a non-test file of this module's packages.
func toolkit(fn, file string) bool {
	return strings.HasPrefix(fn, module) && !strings.HasSuffix(file, "_test.go")
}

// userCode reports whether a frame outside the toolkit is the user's,
// rather than the runtime's or a test framework's (the toolkit's own
// goroutines start there).
func userCode(fn string) bool {
	for _, p := range []string{"runtime.", "testing.", "github.com/onsi/ginkgo/", "github.com/onsi/gomega/", "reflect."} {
		if strings.HasPrefix(fn, p) {
			return false
		}
	}
	return fn != ""
}

// exported reports whether the last part of a short name is exported.
func exported(name string) bool {
	last := name[strings.LastIndexByte(name, '.')+1:]
	return last != "" && last[0] >= 'A' && last[0] <= 'Z'
}

// shortName turns a function's full name into the name a user writes:
// ".../etcdtest.(*Cluster).Isolate" is "Cluster.Isolate", ".../chaos.Run"
// is "chaos.Run", a closure's suffix (".func1") is dropped.
func shortName(fn string) string {
	fn = fn[strings.LastIndexByte(fn, '/')+1:]
	pkg, rest, _ := strings.Cut(fn, ".")
	for i := strings.Index(rest, ".func"); i >= 0; i = strings.Index(rest, ".func") {
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '['); i >= 0 { // a generic function's instance
		rest = rest[:i]
	}
	if strings.HasPrefix(rest, "(*") {
		return strings.Replace(rest[2:], ")", "", 1)
	}
	if strings.HasPrefix(rest, "(") {
		return strings.Replace(rest[1:], ")", "", 1)
	}
	if strings.Contains(rest, ".") { // a method of a value receiver: Key.Put
		return rest
	}
	return pkg + "." + rest
}
