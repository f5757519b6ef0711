package failpoint

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/host"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/provision"
)

// realEndpoint starts a lone etcd of the failpoint build with gofail's
// endpoint and returns its client. The rooms' tests run without etcd
// ($ETCDTEST_BINARY=/nonexistent): then, or with a binary without
// failpoints, it skips.
func realEndpoint(t *testing.T) *Client {
	t.Helper()
	if b := os.Getenv(provision.EnvBinary); b != "" {
		if has, err := provision.HasFailpoints(b); err != nil || !has {
			t.Skipf("$%s=%s has no failpoints (%v)", provision.EnvBinary, b, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := provision.Resolve(ctx, "", "", true)
	if err != nil {
		t.Fatal(err)
	}
	ports, err := host.ReservePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ports.Release)
	url := func(i int) string { return "http://127.0.0.1:" + strconv.Itoa(ports.Ports[i]) }
	cmd := exec.Command(bin.Path, "--data-dir="+t.TempDir(), "--listen-client-urls="+url(0), "--advertise-client-urls="+url(0),
		"--listen-peer-urls="+url(1), "--initial-advertise-peer-urls="+url(1), "--initial-cluster=default="+url(1))
	addr := "127.0.0.1:" + strconv.Itoa(ports.Ports[2])
	cmd.Env = append(os.Environ(), "GOFAIL_HTTP="+addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	c := New(addr)
	for {
		if _, err := c.List(ctx); err == nil {
			return c
		} else if ctx.Err() != nil {
			t.Fatalf("gofail's endpoint never answered: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // polling a starting process, bounded by ctx
	}
}

// CheckAction agrees with the real endpoint: what it takes, gofail takes;
// what it refuses as unparsable, gofail refuses too. (It is stricter on
// purpose for "", a term without an action and break.)
func TestCheckActionAgreesWithARealFailpointBuild(t *testing.T) {
	c := realEndpoint(t)
	ctx := context.Background()
	const fp = "defragBeforeCopy" // fires only in a defragmentation: never here
	for _, action := range []string{"panic", "off", "1*panic", "sleep(100)", `sleep("1s")`, "50.0%return(true)", "return(-5)",
		`return("a=b")`, "1*sleep(200)->panic", "print", "panic->",
		"panik", "panicx", "panic;sleep(1)", "sleep(100", "1%panic", "50%return(true)", "1.5*panic", "PANIC"} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPut, c.base+"/"+fp, strings.NewReader(action))
		resp, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		gofailTakes := resp.StatusCode == http.StatusNoContent
		if ours := CheckAction(action) == nil; ours != gofailTakes {
			t.Errorf("action %q: CheckAction takes it %v, gofail %v (%d)", action, ours, gofailTakes, resp.StatusCode)
		}
	}
	// The client's own calls against it: list, arm, clear, unknown names.
	if err := c.Set(ctx, fp, "sleep(1)"); err != nil {
		t.Fatal(err)
	}
	if fps, err := c.List(ctx); err != nil || fps[fp] != "sleep(1)" || fps["raftAfterSave"] != "" || len(fps) < 40 {
		t.Errorf("List after Set: %d failpoints, %s=%q, %v", len(fps), fp, fps[fp], err)
	}
	for i := 0; i < 2; i++ { // clearing twice: the second finds it disarmed
		if err := c.Clear(ctx, fp); err != nil {
			t.Errorf("Clear #%d: %v", i+1, err)
		}
	}
	if err := c.Set(ctx, "raftAftrSave", "panic"); !errors.Is(err, ErrUnknown) {
		t.Errorf("Set of an unknown name: %v; want ErrUnknown", err)
	}
	if err := c.Clear(ctx, "raftAftrSave"); !errors.Is(err, ErrUnknown) {
		t.Errorf("Clear of an unknown name: %v; want ErrUnknown", err)
	}
}
