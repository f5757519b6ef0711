package etcdtest

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Run with (one sitting, so boots compare):
//
//	go test ./etcdtest -run '^$' -bench 'Failpoint' -benchtime 20x
//
// BenchmarkFailpointBoot boots 3-member clusters with and without
// Config.Failpoints; BenchmarkFailpointArm arms and clears one failpoint
// that never fires (defragBeforeCopy) over the member's gofail endpoint;
// both report the member's data and WAL on disk (du).

func BenchmarkFailpointBoot(b *testing.B) {
	for _, fp := range []bool{false, true} {
		b.Run("failpoints="+strconv.FormatBool(fp), func(b *testing.B) {
			benchStartStop(b, Config{Failpoints: fp})
			c, err := Start(context.Background(), Config{Failpoints: fp})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Stop(context.Background())
			reportDisk(b, c)
		})
	}
}

func BenchmarkFailpointArm(b *testing.B) {
	ctx := context.Background()
	c, err := Start(ctx, Config{Failpoints: true})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Stop(ctx)
	m := c.Member(0)
	var arms, clears []time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if err := m.Failpoint(ctx, "defragBeforeCopy", "panic"); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := m.ClearFailpoint(ctx, "defragBeforeCopy"); err != nil {
			b.Fatal(err)
		}
		arms, clears = append(arms, t1.Sub(t0)), append(clears, time.Since(t1))
	}
	report(b, "arm", arms)
	report(b, "clear", clears)
}

// reportDisk reports the disk one member of c takes: its data dir and its
// WAL, wherever that is.
func reportDisk(b *testing.B, c *Cluster) {
	m := c.Member(0)
	dirs := []string{m.DataDir()}
	if l, err := c.local("reportDisk"); err == nil && l.walDir != "" {
		dirs = append(dirs, filepath.Join(l.walDir, m.Name()))
	}
	out, err := exec.Command("du", append([]string{"-sk", "--total"}, dirs...)...).Output()
	if err != nil {
		b.Logf("du: %v", err)
		return
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	kb, _ := strconv.ParseFloat(strings.Fields(lines[len(lines)-1])[0], 64)
	b.ReportMetric(kb/1024, "MB/member")
}
