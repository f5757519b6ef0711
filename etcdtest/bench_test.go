package etcdtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/host"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/proc"
	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/provision"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Run with:
//
//	go test ./etcdtest -run '^$' -bench . -benchtime 20x
//
// Each benchmark reports the median and the worst of its boots and stops.
// BenchmarkNaiveStart is the baseline a hand-written harness gets: three
// members started at once with etcd's default timing, ready when a
// linearizable read succeeds, stopped with SIGTERM.

func BenchmarkStart(b *testing.B) {
	for _, size := range []int{1, 3} {
		b.Run(fmt.Sprintf("members=%d", size), func(b *testing.B) { benchStartStop(b, Config{Size: size}) })
	}
}

// benchStartStop boots and stops a cluster of cfg b.N times and reports
// the median and worst of each.
func benchStartStop(b *testing.B, cfg Config) {
	if _, err := Provision(context.Background(), cfg); err != nil {
		b.Fatal(err)
	}
	var starts, stops []time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		c, err := Start(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := c.Stop(context.Background()); err != nil {
			b.Fatal(err)
		}
		starts = append(starts, t1.Sub(t0))
		stops = append(stops, time.Since(t1))
	}
	report(b, "start", starts)
	report(b, "stop", stops)
}

func BenchmarkNaiveStart(b *testing.B) {
	bin, err := provision.Resolve(context.Background(), "", "", false)
	if err != nil {
		b.Fatal(err)
	}
	var starts, stops []time.Duration
	b.ResetTimer()
	for range b.N {
		start, stop := naiveBoot(b, bin.Path)
		starts = append(starts, start)
		stops = append(stops, stop)
	}
	report(b, "start", starts)
	report(b, "stop", stops)
}

func naiveBoot(b *testing.B, bin string) (start, stop time.Duration) {
	ports, err := host.ReservePorts(6)
	if err != nil {
		b.Fatal(err)
	}
	defer ports.Release()
	dir := b.TempDir()
	var initial, eps []string
	for i := range 3 {
		initial = append(initial, fmt.Sprintf("n%d=http://127.0.0.1:%d", i, ports.Ports[2*i+1]))
		eps = append(eps, fmt.Sprintf("http://127.0.0.1:%d", ports.Ports[2*i]))
	}
	token := "naive-" + host.RandomHex(4)
	var logs []*proc.LogBuffer
	t0 := time.Now()
	var cmds []*exec.Cmd
	for i := range 3 {
		cmd := exec.Command(bin,
			"--name=n"+strconv.Itoa(i), "--data-dir="+filepath.Join(dir, strconv.Itoa(i)),
			"--listen-client-urls="+eps[i], "--advertise-client-urls="+eps[i],
			"--listen-peer-urls="+strings.TrimPrefix(initial[i], "n"+strconv.Itoa(i)+"="),
			"--initial-advertise-peer-urls="+strings.TrimPrefix(initial[i], "n"+strconv.Itoa(i)+"="),
			"--initial-cluster="+strings.Join(initial, ","), "--initial-cluster-token="+token)
		log := proc.NewLogBuffer(1<<20, nil, "")
		cmd.Stdout, cmd.Stderr = log, log
		logs = append(logs, log)
		if err := proc.Start(cmd); err != nil {
			b.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	defer func() {
		for _, cmd := range cmds {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	cli, err := clientv3.New((&common{}).clientConfig(eps, anonymous)) // as before: quiet, fast reconnect, no TLS
	if err != nil {
		b.Fatal(err)
	}
	defer cli.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		_, err := cli.Get(ctx, "ready", clientv3.WithLimit(1))
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("naive cluster not ready after 30s: %v\n%s", err, proc.Tail(logs[len(logs)-1].String(), 3000))
		}
		time.Sleep(5 * time.Millisecond) // the naive harness polls
	}
	start = time.Since(t0)
	t1 := time.Now()
	for _, cmd := range cmds {
		cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, cmd := range cmds {
		cmd.Wait()
	}
	return start, time.Since(t1)
}

// timed runs f, fails b on its error, and appends how long it took to into.
func timed(b *testing.B, into *[]time.Duration, f func() error) {
	b.Helper()
	t0 := time.Now()
	if err := f(); err != nil {
		b.Fatal(err)
	}
	*into = append(*into, time.Since(t0))
}

func report(b *testing.B, what string, ds []time.Duration) {
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(ds[len(ds)/2]), what+"-median-ms")
	b.ReportMetric(ms(ds[len(ds)-1]), what+"-max-ms")
	if os.Getenv("ETCDTEST_BENCH_ALL") != "" {
		b.Logf("%s: %v", what, ds)
	}
}
