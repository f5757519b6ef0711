package etcdtest

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkIdleCluster measures what an idle 3-member cluster — a warm
// spare waiting to be taken — costs in CPU: its members' and this process's
// (the peer proxies forward every heartbeat) over 5 s, as a percentage of
// one core, and its members' resident memory. Linux only. Run with:
//
//	go test ./etcdtest -run '^$' -bench IdleCluster -benchtime 1x
func BenchmarkIdleCluster(b *testing.B) {
	ctx := context.Background()
	for range b.N {
		c, err := Start(ctx, Config{})
		if err != nil {
			b.Fatal(err)
		}
		window := 5 * time.Second
		members0, self0 := cpuOf(b, c), selfCPU()
		time.Sleep(window) // the idle window measured
		members1, self1 := cpuOf(b, c), selfCPU()
		var rss int64
		for _, m := range c.Members() {
			rss += rssOf(b, m.Pid())
		}
		c.Stop(ctx)
		b.ReportMetric(100*float64(members1-members0)/float64(window), "members-cpu-%")
		b.ReportMetric(100*float64(self1-self0)/float64(window), "test-process-cpu-%")
		b.ReportMetric(float64(rss)/(1<<20), "members-rss-MB")
	}
}

// BenchmarkBootCPU measures where the CPU of one 3-member boot goes: the
// members' own (from their start until Start returns) and this process's
// (the peer proxies, the clients, the readiness checks), per boot. Run with:
//
//	go test ./etcdtest -run '^$' -bench BootCPU -benchtime 20x
func BenchmarkBootCPU(b *testing.B) {
	ctx := context.Background()
	if _, err := Provision(ctx, Config{}); err != nil {
		b.Fatal(err)
	}
	var members, self time.Duration
	for range b.N {
		s0 := selfCPU()
		c, err := Start(ctx, Config{})
		if err != nil {
			b.Fatal(err)
		}
		self += selfCPU() - s0
		members += cpuOf(b, c)
		c.Stop(ctx)
	}
	b.ReportMetric(float64(members.Milliseconds())/float64(b.N), "members-cpu-ms/boot")
	b.ReportMetric(float64(self.Milliseconds())/float64(b.N), "test-process-cpu-ms/boot")
}

// cpuOf returns the CPU time (user + system) the cluster's members have used.
func cpuOf(b *testing.B, c *Cluster) time.Duration {
	var total time.Duration
	for _, m := range c.Members() {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(m.Pid()) + "/stat")
		if err != nil {
			b.Fatal(err)
		}
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(utime+stime) * time.Second / 100 // USER_HZ
	}
	return total
}

// selfCPU returns the CPU time this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssOf returns pid's resident memory in bytes.
func rssOf(b *testing.B, pid int) int64 {
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
