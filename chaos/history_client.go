package chaos

// The recording client. History.Client returns a new *clientv3.Client
// over the base client's connection whose KV and Watcher record every call
// and every watch response on their way through, so the code under test,
// and any library it hands the client to (concurrency.Session, Mutex,
// Election), records by itself. Lease, Cluster, Maintenance and Auth are
// the base client's.
//
// The recorded client's context is a child of the base client's, so
// closing base ends it too. Closing the recorded client ends what it
// opened (its watches, the lease keep-alives it started) and leaves base
// and its other users alone.

import (
	"context"
	"errors"
	"reflect"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Client returns a client to use in place of base: the same connection,
// credentials and namespace, with every KV call (Get, Put, Delete, Txn, Do)
// and every watch response recorded in h. Each call of Client is one
// simulated process, numbered from 0 in the order of the calls; concurrent
// calls on one client are separate operations.
//
//	h := chaos.NewHistory()
//	a, b := h.Client(cluster.Client()), h.Client(cluster.Member(1).Client())
//	go writer(a) // the code under test gets a and b
//	go reader(b)
//
// Any client works: Cluster.Client, Member.Client, ClientLink.Client, one
// made from Cluster.ClientConfig, one against an external cluster, or a
// client whose KV is another layer (go.etcd.io/etcd/client/v3/leasing), which
// is then what is recorded. Closing base closes the recorded client;
// closing the recorded client cancels its watches and keep-alives, not
// base's. A call made after Stop is carried out but not recorded.
func (h *History) Client(base *clientv3.Client) *clientv3.Client {
	if base == nil {
		panic("chaos: History.Client(nil): pass the client the code under test would use, e.g. cluster.Client()")
	}
	h.mu.Lock()
	id := h.clients
	h.clients++
	h.bases = append(h.bases, base)
	h.mu.Unlock()

	cli := clientv3.NewCtxClient(base.Ctx(), clientv3.WithZapLogger(base.GetLogger()))
	r := &recorder{h: h, client: id, done: cli.Ctx()}
	cli.KV = recordingKV{kv: base.KV, r: r}
	cli.Watcher = recordingWatcher{w: base.Watcher, r: r}
	cli.Lease = ownLease{Lease: base.Lease, done: cli.Ctx()}
	cli.Cluster = base.Cluster
	cli.Maintenance = base.Maintenance
	cli.Auth = base.Auth
	return cli
}

// recorder is one recorded client's link to its history.
type recorder struct {
	h      *History
	client int
	done   context.Context // the recorded client's: ends when it or base closes
}

// do runs one KV call and records it.
func (r *recorder) do(req Request, f func() (*Response, error)) {
	op := Operation{Client: r.client, Call: r.h.now(), Request: req}
	resp, err := f()
	op.Return = r.h.now()
	switch {
	case err == nil:
		op.Outcome, op.Response = Succeeded, resp
	case !req.Writes() || hadNoEffect(err):
		op.Outcome, op.Err = Failed, err
	default:
		op.Outcome, op.Err = Unknown, err
	}
	r.h.record(op)
}

// hadNoEffect says whether a write that returned err certainly did not
// take effect: etcd refused it before proposing it (a bad request, a
// compare or read on a compacted or future revision, a missing lease, no
// permission, no space). Anything else — a deadline, a cancelled context,
// an unavailable member, a lost connection, "request timed out", "leader
// changed" — may have come after the write was proposed, so its outcome
// is unknown.
func hadNoEffect(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	code := status.Code(err)
	var ee rpctypes.EtcdError
	if errors.As(rpctypes.Error(err), &ee) { // a gRPC status etcd knows becomes its EtcdError
		code = ee.Code()
	}
	switch code {
	case codes.InvalidArgument, codes.OutOfRange, codes.NotFound, codes.AlreadyExists,
		codes.PermissionDenied, codes.Unauthenticated, codes.FailedPrecondition:
		return true
	case codes.ResourceExhausted: // only NOSPACE is a refusal; "too many requests" is not this code
		return ee == rpctypes.ErrNoSpace
	}
	return false
}

type recordingKV struct {
	kv clientv3.KV
	r  *recorder
}

func (k recordingKV) Put(ctx context.Context, key, val string, opts ...clientv3.OpOption) (*clientv3.PutResponse, error) {
	var out *clientv3.PutResponse
	var err error
	k.r.do(plain(clientv3.OpPut(key, val, opts...)), func() (*Response, error) {
		out, err = k.kv.Put(ctx, key, val, opts...)
		if err != nil {
			return nil, err
		}
		return &Response{Revision: out.Header.GetRevision(), Member: out.Header.GetMemberId(), Succeeded: true,
			Results: []Result{{PrevKVs: kvsOf(optional(out.PrevKv))}}}, nil
	})
	return out, err
}

func (k recordingKV) Get(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	var out *clientv3.GetResponse
	var err error
	k.r.do(plain(clientv3.OpGet(key, opts...)), func() (*Response, error) {
		out, err = k.kv.Get(ctx, key, opts...)
		if err != nil {
			return nil, err
		}
		return &Response{Revision: out.Header.GetRevision(), Member: out.Header.GetMemberId(), Succeeded: true,
			Results: []Result{getResult(out.Kvs, out.Count, out.More)}}, nil
	})
	return out, err
}

func (k recordingKV) Delete(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.DeleteResponse, error) {
	var out *clientv3.DeleteResponse
	var err error
	k.r.do(plain(clientv3.OpDelete(key, opts...)), func() (*Response, error) {
		out, err = k.kv.Delete(ctx, key, opts...)
		if err != nil {
			return nil, err
		}
		return &Response{Revision: out.Header.GetRevision(), Member: out.Header.GetMemberId(), Succeeded: true,
			Results: []Result{{Deleted: out.Deleted, PrevKVs: kvsOf(out.PrevKvs)}}}, nil
	})
	return out, err
}

func (k recordingKV) Compact(ctx context.Context, rev int64, opts ...clientv3.CompactOption) (*clientv3.CompactResponse, error) {
	return k.kv.Compact(ctx, rev, opts...)
}

func (k recordingKV) Do(ctx context.Context, op clientv3.Op) (clientv3.OpResponse, error) {
	var out clientv3.OpResponse
	var err error
	req := plain(op)
	if op.IsTxn() {
		cmps, thenOps, elseOps := op.Txn()
		req = txnRequest(cmps, thenOps, elseOps)
	}
	k.r.do(req, func() (*Response, error) {
		out, err = k.kv.Do(ctx, op)
		if err != nil {
			return nil, err
		}
		switch {
		case out.Get() != nil:
			g := out.Get()
			return &Response{Revision: g.Header.GetRevision(), Member: g.Header.GetMemberId(), Succeeded: true, Results: []Result{getResult(g.Kvs, g.Count, g.More)}}, nil
		case out.Put() != nil:
			p := out.Put()
			return &Response{Revision: p.Header.GetRevision(), Member: p.Header.GetMemberId(), Succeeded: true, Results: []Result{{PrevKVs: kvsOf(optional(p.PrevKv))}}}, nil
		case out.Del() != nil:
			d := out.Del()
			return &Response{Revision: d.Header.GetRevision(), Member: d.Header.GetMemberId(), Succeeded: true, Results: []Result{{Deleted: d.Deleted, PrevKVs: kvsOf(d.PrevKvs)}}}, nil
		case out.Txn() != nil:
			return txnResponse(out.Txn()), nil
		}
		return &Response{Succeeded: true}, nil
	})
	return out, err
}

func (k recordingKV) Txn(ctx context.Context) clientv3.Txn {
	return &recordingTxn{txn: k.kv.Txn(ctx), r: k.r}
}

// recordingTxn collects the transaction as it is built and records it at
// Commit.
type recordingTxn struct {
	txn              clientv3.Txn
	r                *recorder
	cmps             []clientv3.Cmp
	thenOps, elseOps []clientv3.Op
}

func (t *recordingTxn) If(cs ...clientv3.Cmp) clientv3.Txn {
	t.cmps = append(t.cmps, cs...)
	t.txn = t.txn.If(cs...)
	return t
}

func (t *recordingTxn) Then(ops ...clientv3.Op) clientv3.Txn {
	t.thenOps = append(t.thenOps, ops...)
	t.txn = t.txn.Then(ops...)
	return t
}

func (t *recordingTxn) Else(ops ...clientv3.Op) clientv3.Txn {
	t.elseOps = append(t.elseOps, ops...)
	t.txn = t.txn.Else(ops...)
	return t
}

func (t *recordingTxn) Commit() (*clientv3.TxnResponse, error) {
	var out *clientv3.TxnResponse
	var err error
	t.r.do(txnRequest(t.cmps, t.thenOps, t.elseOps), func() (*Response, error) {
		out, err = t.txn.Commit()
		if err != nil {
			return nil, err
		}
		return txnResponse(out), nil
	})
	return out, err
}

// plain is the Request of a single Get, Put or Delete.
func plain(op clientv3.Op) Request { return Request{Then: []Op{opOf(op)}} }

func txnRequest(cmps []clientv3.Cmp, thenOps, elseOps []clientv3.Op) Request {
	req := Request{Txn: true}
	for _, c := range cmps {
		req.Compares = append(req.Compares, compareOf(c))
	}
	for _, op := range thenOps {
		req.Then = append(req.Then, opOf(op))
	}
	for _, op := range elseOps {
		req.Else = append(req.Else, opOf(op))
	}
	return req
}

func txnResponse(out *clientv3.TxnResponse) *Response {
	resp := &Response{Revision: out.Header.GetRevision(), Member: out.Header.GetMemberId(), Succeeded: out.Succeeded}
	for _, r := range out.Responses {
		switch {
		case r.GetResponseRange() != nil:
			g := r.GetResponseRange()
			resp.Results = append(resp.Results, getResult(g.Kvs, g.Count, g.More))
		case r.GetResponsePut() != nil:
			resp.Results = append(resp.Results, Result{PrevKVs: kvsOf(optional(r.GetResponsePut().PrevKv))})
		case r.GetResponseDeleteRange() != nil:
			d := r.GetResponseDeleteRange()
			resp.Results = append(resp.Results, Result{Deleted: d.Deleted, PrevKVs: kvsOf(d.PrevKvs)})
		default: // a nested transaction: recorded as an empty result
			resp.Results = append(resp.Results, Result{})
		}
	}
	return resp
}

// opOf reads a clientv3.Op. Its lease, prev-kv and ignore flags have no
// accessor, so they are read by reflection (opFlags); a test fails if
// clientv3 renames them.
func opOf(op clientv3.Op) Op {
	o := Op{Key: string(op.KeyBytes()), End: string(op.RangeBytes())}
	f := opFlags(op)
	switch {
	case op.IsPut():
		o.Type, o.Value, o.Lease, o.IgnoreValue, o.IgnoreLease = OpPut, string(op.ValueBytes()), f.lease, f.ignoreValue, f.ignoreLease
	case op.IsDelete():
		o.Type = OpDelete
	default:
		o.Type, o.Revision, o.Serializable = OpGet, op.Rev(), op.IsSerializable()
		o.Limit, o.CountOnly, o.KeysOnly = op.Limit(), op.IsCountOnly(), op.IsKeysOnly()
	}
	o.PrevKV = f.prevKV
	return o
}

type flags struct {
	lease                                                  int64
	prevKV, ignoreValue, ignoreLease, filterPut, filterDel bool
}

func opFlags(op clientv3.Op) flags {
	b := func(name string) bool { return reflectField(op, name).b }
	return flags{lease: reflectField(op, "leaseID").n, prevKV: b("prevKV"), ignoreValue: b("ignoreValue"),
		ignoreLease: b("ignoreLease"), filterPut: b("filterPut"), filterDel: b("filterDelete")}
}

// field is an unexported field of a clientv3.Op, read by reflection.
type field struct {
	ok bool // the field exists with the expected kind
	b  bool
	n  int64
}

func reflectField(op clientv3.Op, name string) field {
	f := reflect.ValueOf(op).FieldByName(name)
	switch {
	case !f.IsValid():
		return field{}
	case f.Kind() == reflect.Bool:
		return field{ok: true, b: f.Bool()}
	case f.CanInt():
		return field{ok: true, n: f.Int()}
	}
	return field{}
}

func compareOf(c clientv3.Cmp) Compare {
	cmp := Compare{Key: string(c.Key), End: string(c.RangeEnd)}
	switch c.Result {
	case pb.Compare_EQUAL:
		cmp.Result = "="
	case pb.Compare_GREATER:
		cmp.Result = ">"
	case pb.Compare_LESS:
		cmp.Result = "<"
	case pb.Compare_NOT_EQUAL:
		cmp.Result = "!="
	}
	switch u := c.TargetUnion.(type) {
	case *pb.Compare_Value:
		cmp.Target, cmp.Value = CompareValue, string(u.Value)
	case *pb.Compare_Version:
		cmp.Target, cmp.Number = CompareVersion, u.Version
	case *pb.Compare_CreateRevision:
		cmp.Target, cmp.Number = CompareCreate, u.CreateRevision
	case *pb.Compare_ModRevision:
		cmp.Target, cmp.Number = CompareMod, u.ModRevision
	case *pb.Compare_Lease:
		cmp.Target, cmp.Number = CompareLease, u.Lease
	}
	return cmp
}

func getResult(kvs []*mvccpb.KeyValue, count int64, more bool) Result {
	return Result{KVs: kvsOf(kvs), Count: count, More: more}
}

func optional(kv *mvccpb.KeyValue) []*mvccpb.KeyValue {
	if kv == nil {
		return nil
	}
	return []*mvccpb.KeyValue{kv}
}

func kvsOf(kvs []*mvccpb.KeyValue) []KV {
	if len(kvs) == 0 {
		return nil
	}
	out := make([]KV, len(kvs))
	for i, kv := range kvs {
		out[i] = kvOf(kv)
	}
	return out
}

func kvOf(kv *mvccpb.KeyValue) KV {
	return KV{Key: string(kv.Key), Value: string(kv.Value), CreateRevision: kv.CreateRevision,
		ModRevision: kv.ModRevision, Version: kv.Version, Lease: kv.Lease}
}

// ownLease is base's Lease, except that Close ends only what this client
// started: the keep-alives run under contexts that end with the recorded
// client.
type ownLease struct {
	clientv3.Lease
	done context.Context
}

func (l ownLease) KeepAlive(ctx context.Context, id clientv3.LeaseID) (<-chan *clientv3.LeaseKeepAliveResponse, error) {
	ctx, _ = within(ctx, l.done)
	return l.Lease.KeepAlive(ctx, id)
}

// Close leaves base's lease client running: closing the recorded client
// ends its keep-alives through their contexts.
func (l ownLease) Close() error { return nil }

// within returns a context that ends when ctx or done does.
func within(ctx, done context.Context) (context.Context, context.CancelFunc) {
	cctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(done, cancel)
	context.AfterFunc(cctx, func() { stop() }) // either way, nothing stays registered on done
	return cctx, cancel
}
