package proc

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// harmless are log lines etcd writes on every healthy run, which would
// crowd a failure's log tail and lead its reader astray.
var harmless = []string{
	// etcd 3.7, at every boot, with a stack trace: the storage version is
	// set once the first entry of the leader's term is applied.
	"failed to update storage version",
	"Failed to detect schema version", // 3.6, 3.7: the same, before it
	"Running http and grpc server on single port",
	"simple token is not cryptographically signed",
}

// LogDigest is what a failure report shows of a member's log: its last
// warnings and raft leader changes, compacted, then its last lines as etcd
// wrote them, without known-harmless noise. Member.Logs has it all.
func LogDigest(logs string) string {
	var kept, warns, leaders []string
	for _, line := range strings.Split(strings.TrimRight(logs, "\n"), "\n") {
		if slices.ContainsFunc(harmless, func(h string) bool { return strings.Contains(line, h) }) {
			continue
		}
		kept = append(kept, line)
		var e struct{ Level, Ts, Msg string }
		if json.Unmarshal([]byte(line), &e) != nil || e.Msg == "" {
			continue
		}
		short := e.Ts
		if t, err := time.Parse(time.RFC3339Nano, e.Ts); err == nil {
			short = t.Format("15:04:05.000")
		}
		switch {
		case e.Level == "warn" || e.Level == "error" || e.Level == "panic" || e.Level == "fatal":
			warns = append(warns, fmt.Sprintf("    %s %s %s", short, strings.ToUpper(e.Level), e.Msg))
		case strings.Contains(e.Msg, "elected leader") || strings.Contains(e.Msg, "lost leader") || strings.Contains(e.Msg, "became leader"):
			leaders = append(leaders, fmt.Sprintf("    %s %s", short, e.Msg))
		}
	}
	var b strings.Builder
	if len(warns) > 0 {
		fmt.Fprintf(&b, "  last warnings (%d in all):\n%s\n", len(warns), strings.Join(warns[max(0, len(warns)-5):], "\n"))
	}
	if len(leaders) > 0 {
		fmt.Fprintf(&b, "  last raft leader changes:\n%s\n", strings.Join(leaders[max(0, len(leaders)-3):], "\n"))
	}
	b.WriteString(Tail(strings.Join(kept, "\n")+"\n", 2000))
	return b.String()
}
