package clients

import (
	"context"

	clientv3 "go.etcd.io/etcd/client/v3"
)

type timedKV struct {
	clientv3.KV
	t *deadliner
}

func (k timedKV) Put(ctx context.Context, key, val string, opts ...clientv3.OpOption) (*clientv3.PutResponse, error) {
	return call(k.t, ctx, "Put", "", func(ctx context.Context) (*clientv3.PutResponse, error) { return k.KV.Put(ctx, key, val, opts...) })
}

func (k timedKV) Get(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	return call(k.t, ctx, "Get", "", func(ctx context.Context) (*clientv3.GetResponse, error) { return k.KV.Get(ctx, key, opts...) })
}

func (k timedKV) Delete(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.DeleteResponse, error) {
	return call(k.t, ctx, "Delete", "", func(ctx context.Context) (*clientv3.DeleteResponse, error) { return k.KV.Delete(ctx, key, opts...) })
}

func (k timedKV) Compact(ctx context.Context, rev int64, opts ...clientv3.CompactOption) (*clientv3.CompactResponse, error) {
	return call(k.t, ctx, "Compact", "", func(ctx context.Context) (*clientv3.CompactResponse, error) { return k.KV.Compact(ctx, rev, opts...) })
}

func (k timedKV) Do(ctx context.Context, op clientv3.Op) (clientv3.OpResponse, error) {
	return call(k.t, ctx, "Do", "", func(ctx context.Context) (clientv3.OpResponse, error) { return k.KV.Do(ctx, op) })
}

// Txn counts the default deadline from Txn, not Commit: a transaction is
// built and committed in one expression.
func (k timedKV) Txn(ctx context.Context) clientv3.Txn {
	if err := k.t.refused("Txn"); err != nil {
		return refusedTxn{err}
	}
	if _, ok := ctx.Deadline(); ok {
		return k.KV.Txn(ctx)
	}
	cctx, cancel := context.WithTimeout(ctx, k.t.d)
	return &timedTxn{Txn: k.KV.Txn(cctx), t: k.t, ctx: ctx, cctx: cctx, cancel: cancel}
}

type timedTxn struct {
	clientv3.Txn
	t         *deadliner
	ctx, cctx context.Context
	cancel    context.CancelFunc
}

func (x *timedTxn) If(cs ...clientv3.Cmp) clientv3.Txn { x.Txn = x.Txn.If(cs...); return x }
func (x *timedTxn) Then(ops ...clientv3.Op) clientv3.Txn {
	x.Txn = x.Txn.Then(ops...)
	return x
}
func (x *timedTxn) Else(ops ...clientv3.Op) clientv3.Txn {
	x.Txn = x.Txn.Else(ops...)
	return x
}

func (x *timedTxn) Commit() (*clientv3.TxnResponse, error) {
	defer x.cancel()
	r, err := x.Txn.Commit()
	return r, x.t.check(x.ctx, x.cctx, "Txn", "", err)
}

// refusedTxn is a transaction on a client that refuses calls (Refuse).
type refusedTxn struct{ err error }

func (x refusedTxn) If(...clientv3.Cmp) clientv3.Txn        { return x }
func (x refusedTxn) Then(...clientv3.Op) clientv3.Txn       { return x }
func (x refusedTxn) Else(...clientv3.Op) clientv3.Txn       { return x }
func (x refusedTxn) Commit() (*clientv3.TxnResponse, error) { return nil, x.err }
