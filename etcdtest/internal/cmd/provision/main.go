// Command provision prints the path of the etcd executable etcdtest would
// use, building the managed default first if needed. CI runs it once so the
// first build's minute is not charged to a test's timeout.
//
//	go run ./etcdtest/internal/cmd/provision
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest"
)

func main() {
	path, err := etcdtest.Provision(context.Background(), etcdtest.Config{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(path)
}
