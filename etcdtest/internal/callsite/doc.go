// Package callsite finds the user's line behind a toolkit call: the first
// frame of the calling goroutine's stack outside the toolkit's own code,
// and the toolkit function that line called. etcdtest records it when a
// fault is made, so a later report can say which call left a member killed
// or the network partitioned:
//
//	s := callsite.Find()
//	s.String() // "Cluster.Isolate at /home/me/app/suite_test.go:42"
//
// The toolkit is every non-test file of this module; a test file, the
// module's own included, is user code. A call the toolkit made on a
// goroutine of its own (chaos.Run's schedule) has no user line: its Site
// names the call and is otherwise empty.
package callsite
