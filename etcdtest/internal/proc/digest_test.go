package proc

import (
	"strings"
	"testing"
)

func TestLogDigestLeadsWithWarningsAndLeaderChangesAndDropsBootNoise(t *testing.T) {
	logs := strings.Join([]string{
		`{"level":"info","ts":"2026-11-30T10:48:22.401427Z","msg":"starting an etcd server"}`,
		`{"level":"warn","ts":"2026-11-30T10:48:22.402000Z","msg":"failed to update storage version","cluster-version":"3.7.0","error":"cannot detect storage schema version: missing term information","stacktrace":"go.etcd.io/etcd/server/v3/etcdserver..."}`,
		`{"level":"info","ts":"2026-11-30T10:48:22.414035Z","logger":"raft","msg":"raft.node: 5ea8 elected leader 22f4 at term 18"}`,
		`{"level":"warn","ts":"2026-11-30T10:48:23.103021Z","logger":"raft","msg":"6750 stepped down to follower since quorum is not active"}`,
		`not JSON: kept as it is`,
	}, "\n") + "\n"
	got := LogDigest(logs)
	want := `  last warnings (1 in all):
    10:48:23.103 WARN 6750 stepped down to follower since quorum is not active
  last raft leader changes:
    10:48:22.414 raft.node: 5ea8 elected leader 22f4 at term 18
{"level":"info","ts":"2026-11-30T10:48:22.401427Z","msg":"starting an etcd server"}
{"level":"info","ts":"2026-11-30T10:48:22.414035Z","logger":"raft","msg":"raft.node: 5ea8 elected leader 22f4 at term 18"}
{"level":"warn","ts":"2026-11-30T10:48:23.103021Z","logger":"raft","msg":"6750 stepped down to follower since quorum is not active"}
not JSON: kept as it is
`
	if got != want {
		t.Errorf("LogDigest =\n%s\nwant\n%s", got, want)
	}
	if d := LogDigest(""); strings.TrimSpace(d) != "" {
		t.Errorf("LogDigest of an empty log = %q, want nothing", d)
	}
}
