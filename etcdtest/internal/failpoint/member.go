package failpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Member is one member's side of the failpoints: its endpoint's port, what
// the toolkit armed on it in the current run, and its log, which gets a
// line for every arm and clear and one when the process ends by itself,
// so the log tail of a crashed member names the failpoint that fired.
type Member struct {
	Name    string
	Port    int       // gofail's endpoint; 0 for a member without one
	Version string    // the etcd release, for errors
	Log     io.Writer // the member's log
	armed   Armed
}

// Env is the environment of the member's next run, which starts with
// nothing armed: GOFAIL_HTTP on its port.
func (m *Member) Env() []string {
	m.armed.Reset()
	return []string{"GOFAIL_HTTP=127.0.0.1:" + strconv.Itoa(m.Port)}
}

func (m *Member) client() *Client { return New("127.0.0.1:" + strconv.Itoa(m.Port)) }

// List is Client.List on the member's endpoint.
func (m *Member) List(ctx context.Context) (map[string]string, error) {
	return m.client().List(ctx)
}

// Set arms name with action, logs it, and explains a name the binary lacks.
func (m *Member) Set(ctx context.Context, name, action string) error {
	c := m.client()
	if err := c.Set(ctx, name, action); err != nil {
		return m.explain(ctx, c, name, err)
	}
	m.armed.Set(name, action)
	fmt.Fprintf(m.Log, "--- etcdtest: failpoint %s=%s armed on %s ---\n", name, action, m.Name)
	return nil
}

// Clear disarms name, logs it, and explains a name the binary lacks.
func (m *Member) Clear(ctx context.Context, name string) error {
	c := m.client()
	if err := c.Clear(ctx, name); err != nil {
		return m.explain(ctx, c, name, err)
	}
	m.armed.Clear(name)
	fmt.Fprintf(m.Log, "--- etcdtest: failpoint %s cleared on %s ---\n", name, m.Name)
	return nil
}

// explain is err, with the closest names and how to list them all for a
// name the binary lacks.
func (m *Member) explain(ctx context.Context, c *Client, name string, err error) error {
	if !errors.Is(err, ErrUnknown) {
		return err
	}
	fps, lerr := c.List(ctx)
	if lerr != nil {
		return fmt.Errorf("etcd %s has no failpoint %q (list them with Member.Failpoints)", m.Version, name)
	}
	return fmt.Errorf("etcd %s has no failpoint %q: %s (Member.Failpoints lists all %d)", m.Version, name, Hint(fps, name), len(fps))
}

// Armed is what the toolkit armed in the current run, "none" or
// name=action pairs.
func (m *Member) Armed() string { return m.armed.String() }

// NoteExit logs that the member's process ended by itself with err.
func (m *Member) NoteExit(err error) {
	fmt.Fprintf(m.Log, "--- etcdtest: %s exited by itself (%v); failpoints armed: %s ---\n", m.Name, err, m.Armed())
}
