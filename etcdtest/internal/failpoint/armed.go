package failpoint

import (
	"maps"
	"slices"
	"strings"
	"sync"
)

// Armed is what a toolkit armed on one process, for its log and errors;
// the zero Armed is empty and ready. It is safe for concurrent use.
type Armed struct {
	mu sync.Mutex
	m  map[string]string
}

// Set records name armed with action.
func (a *Armed) Set(name, action string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[string]string{}
	}
	a.m[name] = action
}

// Clear records name disarmed.
func (a *Armed) Clear(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.m, name)
}

// Reset forgets everything: a new process has nothing armed.
func (a *Armed) Reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.m = nil
}

// String is the armed failpoints as "name=action" pairs, sorted, or "none".
func (a *Armed) String() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.m) == 0 {
		return "none"
	}
	var pairs []string
	for _, n := range slices.Sorted(maps.Keys(a.m)) {
		pairs = append(pairs, n+"="+a.m[n])
	}
	return strings.Join(pairs, ", ")
}

// Hint says what a binary whose listing is fps has instead of name: the
// closest names, or all of them when none is close.
func Hint(fps map[string]string, name string) string {
	names := slices.Sorted(maps.Keys(fps))
	if close := Closest(names, name); len(close) > 0 {
		return "the closest are " + strings.Join(close, ", ")
	}
	return "it has " + strings.Join(names, ", ")
}
