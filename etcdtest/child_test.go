package etcdtest_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

// TestChild is not a test of its own: specs re-run this test binary with
// ETCDTEST_CHILD set, to have a separate process boot clusters.
//
//	hold:  boot one cluster (and a spare with ETCDTEST_CHILD_SPARE set), write "<dir> <pid> <pid>..." to ETCDTEST_CHILD_OUT, block until killed
//	boots: boot and stop ETCDTEST_CHILD_N clusters in turn, one line per boot to ETCDTEST_CHILD_OUT
func TestChild(t *testing.T) {
	mode := os.Getenv("ETCDTEST_CHILD")
	if mode == "" {
		t.Skip("runs only as a child process of the etcdtest suite")
	}
	out := os.Getenv("ETCDTEST_CHILD_OUT")
	cfg := etcdtest.Config{DataDir: os.Getenv("ETCDTEST_CHILD_DATA"), Spare: os.Getenv("ETCDTEST_CHILD_SPARE") != ""}
	ctx := context.Background()
	switch mode {
	case "hold":
		c, err := etcdtest.Start(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		line := c.Dir()
		for _, m := range c.Members() {
			line += " " + strconv.Itoa(m.Pid())
		}
		if err := os.WriteFile(out+".tmp", []byte(line), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Rename(out+".tmp", out) // the parent polls for the file: it appears whole
		time.Sleep(time.Hour)      // held until the parent kills this process
	case "boots":
		n, _ := strconv.Atoi(os.Getenv("ETCDTEST_CHILD_N"))
		var lines []string
		for i := 0; i < n; i++ {
			begin := time.Now()
			c, err := etcdtest.Start(ctx, cfg)
			if err != nil {
				lines = append(lines, "error: "+strings.ReplaceAll(err.Error(), "\n", " | "))
				continue
			}
			var urls []string
			for _, m := range c.Members() {
				urls = append(urls, m.ClientURL(), m.PeerURL())
			}
			err = c.Stop(ctx)
			lines = append(lines, fmt.Sprintf("ok %d %d %s", begin.UnixNano(), time.Now().UnixNano(), strings.Join(urls, " ")))
			if err != nil {
				lines = append(lines, "error: stop: "+err.Error())
			}
		}
		if err := os.WriteFile(out, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
