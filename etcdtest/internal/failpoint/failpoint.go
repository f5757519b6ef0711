package failpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
)

// ErrUnknown is what the endpoint answers for a name the binary lacks.
var ErrUnknown = errors.New("no such failpoint")

// Client talks to one gofail HTTP endpoint (GOFAIL_HTTP).
type Client struct {
	base string
	http *http.Client
}

// New returns a client of the endpoint at addr ("127.0.0.1:PORT"). Every
// call is bounded by its context only.
func New(addr string) *Client {
	// A transport of its own: a member's endpoint dies with the member,
	// and idle connections to it must not outlive the client's use.
	return &Client{base: "http://" + addr, http: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}}
}

// List returns every failpoint of the binary and its armed action ("" when
// not armed).
func (c *Client) List(ctx context.Context) (map[string]string, error) {
	code, body, err := c.do(ctx, http.MethodGet, "/", "")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("gofail answered GET / with %d: %s", code, strings.TrimSpace(body))
	}
	return ParseList(body)
}

// Set arms failpoint name with action (gofail's syntax, see CheckAction)
// and returns once the endpoint has armed it. A name the binary lacks
// wraps ErrUnknown; a malformed action is refused before it is sent, with
// gofail's own message.
func (c *Client) Set(ctx context.Context, name, action string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if err := CheckAction(action); err != nil {
		return err
	}
	code, body, err := c.do(ctx, http.MethodPut, "/"+name, action)
	if err != nil {
		return err
	}
	return answer(code, body, name, "")
}

// Clear disarms failpoint name; clearing one that is not armed is not an
// error. A name the binary lacks wraps ErrUnknown.
func (c *Client) Clear(ctx context.Context, name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	code, body, err := c.do(ctx, http.MethodDelete, "/"+name, "")
	if err != nil {
		return err
	}
	return answer(code, body, name, "failpoint is disabled")
}

// answer reads gofail's answer to a PUT or DELETE of name; an error whose
// text contains ok is no error.
func answer(code int, body, name, ok string) error {
	body = strings.TrimSpace(body)
	switch {
	case code == http.StatusNoContent || code == http.StatusOK:
		return nil
	case ok != "" && strings.Contains(body, ok):
		return nil
	case strings.Contains(body, "failpoint does not exist"):
		return fmt.Errorf("%w %q", ErrUnknown, name)
	}
	return fmt.Errorf("gofail refused %s: %d %s", name, code, body)
}

func (c *Client) do(ctx context.Context, method, path, body string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b), err
}

// ParseList reads gofail's listing (GET /): one "name=action" line per
// failpoint, the action empty when it is not armed. An action may itself
// hold '=' (return("a=b")): a line splits at its first.
func ParseList(body string) (map[string]string, error) {
	fps := map[string]string{}
	for i, line := range strings.Split(body, "\n") {
		if line == "" {
			continue
		}
		name, action, ok := strings.Cut(line, "=")
		if !ok || CheckName(name) != nil {
			return nil, fmt.Errorf("gofail's listing line %d is not name=action: %q", i+1, line)
		}
		fps[name] = action
	}
	return fps, nil
}

var nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// CheckName refuses what cannot be a failpoint's name: gofail names them
// after Go variables. "failpoints" is gofail's name for setting several at
// once, never one failpoint.
func CheckName(name string) error {
	if !nameRE.MatchString(name) || strings.EqualFold(name, "failpoints") {
		return fmt.Errorf("%q is not a failpoint name: gofail names failpoints like Go variables (raftAfterSave)", name)
	}
	return nil
}

// Closest returns up to three of names nearest to name: those that contain
// it or it contains (case aside), then those within a few edits, nearest
// first.
func Closest(names []string, name string) []string {
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	low := strings.ToLower(name)
	for _, n := range names {
		l := strings.ToLower(n)
		d := editDistance(low, l)
		if low != "" && (strings.Contains(l, low) || strings.Contains(low, l)) {
			d = min(d, 1)
		}
		if d <= max(2, len(name)/3) {
			cs = append(cs, cand{n, d})
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].name < cs[j].name
	})
	var out []string
	for i := 0; i < len(cs) && i < 3; i++ {
		out = append(out, cs[i].name)
	}
	return out
}

// editDistance is Levenshtein's distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
