package chaos

import (
	"context"
	"errors"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The fields opOf reads by reflection: this fails if clientv3 renames them.
func TestCheckRecordingReadsEveryOpOption(t *testing.T) {
	put := opOf(clientv3.OpPut("/k", "v", clientv3.WithLease(0x42), clientv3.WithPrevKV(), clientv3.WithIgnoreLease()))
	want := Op{Type: OpPut, Key: "/k", Value: "v", Lease: 0x42, PrevKV: true, IgnoreLease: true}
	if put != want {
		t.Errorf("put: got %+v, want %+v", put, want)
	}
	get := opOf(clientv3.OpGet("/p/", clientv3.WithPrefix(), clientv3.WithRev(7), clientv3.WithSerializable(), clientv3.WithLimit(3), clientv3.WithKeysOnly()))
	want = Op{Type: OpGet, Key: "/p/", End: "/p0", Revision: 7, Serializable: true, Limit: 3, KeysOnly: true}
	if get != want {
		t.Errorf("get: got %+v, want %+v", get, want)
	}
	if get.String() != "get /p/* @7 (serializable)" {
		t.Errorf("get.String() = %q", get.String())
	}
	f := opFlags(clientv3.OpGet("/w", clientv3.WithFilterPut(), clientv3.WithFilterDelete()))
	if !f.filterPut || !f.filterDel {
		t.Errorf("watch filters not read: %+v", f)
	}
	if !reflectBool(clientv3.OpGet("/w", clientv3.WithCreatedNotify()), "createdNotify") {
		t.Error("createdNotify not read")
	}
	if from := opOf(clientv3.OpGet("/a", clientv3.WithFromKey())); from.End != "\x00" || !from.Covers("/zzz") || from.Covers("/") {
		t.Errorf("from-key range: %+v", from)
	}
}

func TestCheckRecordingTellsFailedFromUnknownWrites(t *testing.T) {
	for _, tc := range []struct {
		err      error
		noEffect bool
	}{
		{context.DeadlineExceeded, false},
		{context.Canceled, false},
		{status.Error(codes.Unavailable, "connection refused"), false},
		{rpctypes.ErrTimeout, false},
		{rpctypes.ErrLeaderChanged, false},
		{rpctypes.ErrGRPCTimeoutDueToConnectionLost, false},
		{errors.New("some error nobody knows"), false},
		{rpctypes.ErrLeaseNotFound, true},
		{rpctypes.ErrCompacted, true},
		{rpctypes.ErrFutureRev, true},
		{rpctypes.ErrPermissionDenied, true},
		{rpctypes.ErrNoSpace, true},
		{rpctypes.ErrGRPCNoSpace, true},
		{rpctypes.ErrTooManyRequests, false},
	} {
		if got := hadNoEffect(tc.err); got != tc.noEffect {
			t.Errorf("hadNoEffect(%v) = %v, want %v", tc.err, got, tc.noEffect)
		}
	}
}
