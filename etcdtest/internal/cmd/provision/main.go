// Command provision prints the path of the etcd executable etcdtest would
// use, building the managed default first if needed. CI runs it once so the
// first build's minute is not charged to a test's timeout; -failpoints
// provisions the failpoint build (Config.Failpoints) instead.
//
//	go run ./etcdtest/internal/cmd/provision [-failpoints]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

func main() {
	failpoints := flag.Bool("failpoints", false, "provision the build with gofail failpoints (Config.Failpoints)")
	flag.Parse()
	path, err := etcdtest.Provision(context.Background(), etcdtest.Config{Failpoints: *failpoints})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(path)
}
