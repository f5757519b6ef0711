package matchers

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/onsi/gomega"
	"github.com/onsi/gomega/format"
	"github.com/onsi/gomega/types"
)

// QueryTimeout bounds each etcd request a matcher makes on one poll, apart
// from the spec's own timeouts. A request that takes longer is a failed
// read: an error from Match for the key matchers and HaveRaftLeader, an
// unhealthy member for BeHealthy (see the package doc).
const QueryTimeout = time.Second

// historyShown is how many of a node's last events a failure message lists.
const historyShown = 8

// expectation is the expected argument of a matcher: a Gomega matcher, or a
// plain value compared with Equal.
type expectation struct {
	expected any
	matcher  types.GomegaMatcher
}

func expect(expected any) expectation {
	if m, ok := expected.(types.GomegaMatcher); ok {
		return expectation{expected: expected, matcher: m}
	}
	return expectation{expected: expected, matcher: gomega.Equal(expected)}
}

// String describes what is expected, for messages that have no actual value
// to show the inner matcher.
func (e expectation) String() string {
	return format.Object(e.expected, 1)
}

// formatActual shows an actual of the wrong type compactly: by its String
// method, by type and address for a pointer to a struct, element by element
// for a slice of those, rather than as the dump of every field (clients,
// locks, maps a node's goroutines are writing) that format.Object would make.
func formatActual(actual any) string {
	return format.Indent + compact(actual)
}

func compact(a any) string {
	if s, ok := a.(fmt.Stringer); ok && !isNil(a) {
		return fmt.Sprintf("<%T>: %s", a, s)
	}
	v := reflect.ValueOf(a)
	switch {
	case v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct:
		return fmt.Sprintf("<%T | %p>", a, a)
	case v.Kind() == reflect.Slice && !v.IsNil() && !isPrintable(v.Type().Elem().Kind()):
		elems := make([]string, v.Len())
		for i := range elems {
			elems[i] = compact(v.Index(i).Interface())
		}
		return fmt.Sprintf("<%T | len:%d>: [%s]", a, v.Len(), strings.Join(elems, ", "))
	}
	return strings.TrimPrefix(format.Object(a, 0), format.Indent)
}

// isPrintable says whether format.Object shows values of this kind safely.
func isPrintable(k reflect.Kind) bool {
	switch k {
	case reflect.Pointer, reflect.Struct, reflect.Interface, reflect.Slice, reflect.Map:
		return false
	}
	return true
}

func isNil(a any) bool {
	if a == nil {
		return true
	}
	v := reflect.ValueOf(a)
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface, reflect.Func, reflect.Chan:
		return v.IsNil()
	}
	return false
}

func formatValue(value string) string {
	return format.Object(value, 1)
}
