package matchers

import (
	"fmt"
	"reflect"
	"time"

	"github.com/onsi/gomega"
	"github.com/onsi/gomega/format"
	"github.com/onsi/gomega/types"
)

// QueryTimeout bounds each etcd request a matcher makes on one poll. A
// request that takes longer counts as a failed read: no match on this poll.
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
// method, or by type and address for a pointer to a struct, rather than as
// the dump of every field (clients, locks) that format.Object would make.
func formatActual(actual any) string {
	if s, ok := actual.(fmt.Stringer); ok && !isNil(actual) {
		return fmt.Sprintf("%s<%T>: %s", format.Indent, actual, s)
	}
	if v := reflect.ValueOf(actual); v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct {
		return fmt.Sprintf("%s<%T | %p>", format.Indent, actual, actual)
	}
	return format.Object(actual, 1)
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
