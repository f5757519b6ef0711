package clients

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// calls are unary calls of each wrapped interface, by the name the
// wrapper gives them, with the method the fake records.
var calls = []struct {
	method string
	call   func(context.Context, *clientv3.Client) error
}{
	{"Put", func(ctx context.Context, c *clientv3.Client) error { _, err := c.Put(ctx, "k", "v"); return err }},
	{"Get", func(ctx context.Context, c *clientv3.Client) error { _, err := c.Get(ctx, "k"); return err }},
	{"Delete", func(ctx context.Context, c *clientv3.Client) error { _, err := c.Delete(ctx, "k"); return err }},
	{"Compact", func(ctx context.Context, c *clientv3.Client) error { _, err := c.Compact(ctx, 7); return err }},
	{"Do", func(ctx context.Context, c *clientv3.Client) error {
		_, err := c.Do(ctx, clientv3.OpGet("k"))
		return err
	}},
	{"Txn", func(ctx context.Context, c *clientv3.Client) error { _, err := c.Txn(ctx).Commit(); return err }},
	{"Grant", func(ctx context.Context, c *clientv3.Client) error { _, err := c.Grant(ctx, 5); return err }},
	{"Revoke", func(ctx context.Context, c *clientv3.Client) error { _, err := c.Revoke(ctx, 1); return err }},
	{"TimeToLive", func(ctx context.Context, c *clientv3.Client) error { _, err := c.TimeToLive(ctx, 1); return err }},
	{"Leases", func(ctx context.Context, c *clientv3.Client) error { _, err := c.Leases(ctx); return err }},
	{"KeepAliveOnce", func(ctx context.Context, c *clientv3.Client) error { _, err := c.KeepAliveOnce(ctx, 1); return err }},
	{"RequestProgress", func(ctx context.Context, c *clientv3.Client) error { return c.RequestProgress(ctx) }},
	{"MemberList", func(ctx context.Context, c *clientv3.Client) error { _, err := c.MemberList(ctx); return err }},
	{"MemberRemove", func(ctx context.Context, c *clientv3.Client) error { _, err := c.MemberRemove(ctx, 1); return err }},
	{"AlarmList", func(ctx context.Context, c *clientv3.Client) error { _, err := c.AlarmList(ctx); return err }},
	{"Status", func(ctx context.Context, c *clientv3.Client) error {
		_, err := c.Status(ctx, "http://127.0.0.1:2379")
		return err
	}},
	{"Defragment", func(ctx context.Context, c *clientv3.Client) error {
		_, err := c.Defragment(ctx, "http://127.0.0.1:2379")
		return err
	}},
	{"MoveLeader", func(ctx context.Context, c *clientv3.Client) error { _, err := c.MoveLeader(ctx, 2); return err }},
	{"AuthStatus", func(ctx context.Context, c *clientv3.Client) error { _, err := c.AuthStatus(ctx); return err }},
	{"UserAdd", func(ctx context.Context, c *clientv3.Client) error { _, err := c.UserAdd(ctx, "u", "p"); return err }},
}

func TestACallWithoutADeadlineGetsTheDefault(t *testing.T) {
	const d = time.Hour
	for _, tc := range calls {
		t.Run(tc.method, func(t *testing.T) {
			f := &member{answer: true}
			cli := newClient(f, d)
			before := time.Now()
			if err := tc.call(context.Background(), cli); err != nil {
				t.Fatalf("%s answered at once, yet returned %v", tc.method, err)
			}
			after := time.Now()
			got, called := f.deadline(tc.method)
			switch {
			case !called:
				t.Fatalf("%s did not reach the member", tc.method)
			case !got.ok:
				t.Fatalf("%s reached the member without a deadline; want one of %v", tc.method, d)
			case got.at.Before(before.Add(d)) || got.at.After(after.Add(d)):
				t.Fatalf("%s reached the member with a deadline %v from the call; want %v", tc.method, got.at.Sub(before), d)
			}
		})
	}
}

func TestACallWithItsOwnDeadlineKeepsIt(t *testing.T) {
	for _, tc := range calls {
		t.Run(tc.method, func(t *testing.T) {
			f := &member{answer: true}
			cli := newClient(f, time.Millisecond)
			own := time.Now().Add(time.Hour)
			ctx, cancel := context.WithDeadline(context.Background(), own)
			defer cancel()
			if err := tc.call(ctx, cli); err != nil {
				t.Fatalf("%s answered at once, yet returned %v", tc.method, err)
			}
			if got, _ := f.deadline(tc.method); !got.ok || !got.at.Equal(own) {
				t.Fatalf("%s reached the member with deadline %v (set: %v); want its own, %v", tc.method, got.at, got.ok, own)
			}
		})
	}
}

func TestTheDefaultDeadlineEndsACallWithTheConstructedError(t *testing.T) {
	const d = 50 * time.Millisecond
	for _, tc := range calls {
		t.Run(tc.method, func(t *testing.T) {
			cli := newClient(&member{}, d) // never answers
			start := time.Now()
			err := tc.call(context.Background(), cli)
			took := time.Since(start)
			if took < d || took > d+5*time.Second {
				t.Errorf("%s returned after %v; want about %v", tc.method, took, d)
			}
			var te *timeoutError
			if !errors.As(err, &te) {
				t.Fatalf("%s returned %v (%T); want the constructed error", tc.method, err, err)
			}
			if te.method != tc.method || te.d != d || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("constructed with method %q, d %v, err %v; want %q, %v, context.DeadlineExceeded", te.method, te.d, te.err, tc.method, d)
			}
			want := cli.Endpoints()
			if tc.method == "Status" || tc.method == "Defragment" {
				want = []string{"http://127.0.0.1:2379"} // the member the call names
			}
			if !slices.Equal(te.endpoints, want) {
				t.Errorf("constructed with endpoints %q; want %q", te.endpoints, want)
			}
		})
	}
}

func TestACallEndedByItsOwnContextReturnsTheClientsError(t *testing.T) {
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"its own deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 20*time.Millisecond)
		}, context.DeadlineExceeded},
		{"canceled, without a deadline", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(20*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cli := newClient(&member{}, time.Hour)
			ctx, cancel := tc.ctx()
			defer cancel()
			_, err := cli.Get(ctx, "k")
			var te *timeoutError
			if errors.As(err, &te) || err != tc.want {
				t.Fatalf("Get returned %v (%T); want the client's own %v", err, err, tc.want)
			}
		})
	}
}

func TestATxnsDefaultDeadlineCountsFromTxn(t *testing.T) {
	const d = time.Hour
	f := &member{answer: true}
	cli := newClient(f, d)
	txn := cli.Txn(context.Background())
	built := time.Now()
	time.Sleep(50 * time.Millisecond) // the time a test takes to build its If, Then and Else
	r, err := txn.If(clientv3.Compare(clientv3.Version("k"), "=", 0)).
		Then(clientv3.OpPut("k", "v"), clientv3.OpGet("k")).
		Else(clientv3.OpGet("k")).
		Commit()
	if err != nil {
		t.Fatal(err)
	}
	if !r.Succeeded {
		t.Error("If, Then and Else did not reach the member's transaction (1 comparison, 2 then, 1 else)")
	}
	got, _ := f.deadline("Txn")
	if !got.ok || got.at.After(built.Add(d)) {
		t.Fatalf("Commit reached the member with a deadline %v after Txn (set: %v); want at most %v", got.at.Sub(built), got.ok, d)
	}
}

func TestStreamsGetNoDeadline(t *testing.T) {
	f := &member{answer: true}
	cli := newClient(f, time.Millisecond)
	for range cli.Watch(context.Background(), "k") { // the fake closes it once served
	}
	if _, err := cli.KeepAlive(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.SnapshotWithVersion(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"Watch", "KeepAlive", "SnapshotWithVersion"} {
		got, called := f.deadline(method)
		if !called || got.ok {
			t.Errorf("%s reached the member: %v, with a deadline: %v; a stream lives as long as its context", method, called, got.ok)
		}
	}
}

func TestARefusedCallAnswersAtOnceWithoutReachingTheMember(t *testing.T) {
	for _, tc := range calls {
		t.Run(tc.method, func(t *testing.T) {
			f := &member{} // would never answer
			cli := newClient(f, time.Hour)
			down := errors.New("member is killed")
			var asked []string
			Refuse(cli, func(method string) error { asked = append(asked, method); return down })
			start := time.Now()
			err := tc.call(context.Background(), cli)
			if !errors.Is(err, down) {
				t.Fatalf("%s returned %v; want the refusal", tc.method, err)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("%s took %v to be refused; want at once", tc.method, took)
			}
			if _, called := f.deadline(tc.method); called {
				t.Errorf("%s reached the member although refused", tc.method)
			}
			if !slices.Equal(asked, []string{tc.method}) {
				t.Errorf("refuse was asked about %q; want [%s]", asked, tc.method)
			}
		})
	}
}

func TestACallThatIsNotRefusedGoesThrough(t *testing.T) {
	f := &member{answer: true}
	cli := newClient(f, time.Hour)
	Refuse(cli, func(string) error { return nil }) // the member runs
	if _, err := cli.Put(context.Background(), "k", "v"); err != nil {
		t.Fatal(err)
	}
	if _, called := f.deadline("Put"); !called {
		t.Error("Put did not reach the member")
	}
	if _, err := cli.Txn(context.Background()).Commit(); err != nil {
		t.Fatal(err)
	}
}
