// Package etcdtest boots real etcd clusters as OS processes for tests, and
// breaks them on command.
//
//	cluster := etcdtest.StartT(t, etcdtest.Config{}) // 3 members on 127.0.0.1, stopped by t.Cleanup
//	cli := cluster.Client()
//
// In a Ginkgo suite, one cluster per parallel process:
//
//	var cluster = etcdtest.BeforeSuite(etcdtest.Config{})
//
//	It("survives the loss of a member", func(ctx SpecContext) {
//		Expect(cluster.Member(0).Kill()).To(Succeed())
//		Expect(cluster.Member(1).Key("/k").Put(ctx, "v")).To(Succeed())
//		Expect(cluster.Member(0).Restart(ctx)).To(Succeed())
//	})
//
// Or, where specs need a cluster nobody used before (revisions, leases,
// auth, membership), one per spec, each booted in the background while the
// spec before it runs (Config.Spare):
//
//	var cluster = etcdtest.PerSpec(etcdtest.Config{})
//
// # What a cluster is
//
// Start runs Config.Size etcd processes (3 by default) on loopback ports
// reserved across processes, with timing tuned for tests (10 ms heartbeat,
// 100 ms election timeout, no fsync). It returns when the cluster is usable:
// every member serves, all agree on one raft leader, the cluster and member
// IDs are the ones derived from this cluster's unique token, and a
// linearizable read succeeds. A 3-member cluster boots in about the time one
// member takes (see the README for measured figures).
//
// Members write their logs to a bounded buffer (Member.Logs), never to the
// test process's output; Cluster.Diagnostics summarises the cluster and the
// log tails for a failure report. Ginkgo's progress reports (a slow spec, a
// SIGUSR1, a timeout) include each live cluster's raft leader, member states
// and faults in force.
//
// # Faults
//
// Member.Kill (SIGKILL), Pause (SIGSTOP), Resume, Stop and Restart act on the
// real process. Every member's advertised peer URL is a proxy inside the test
// process, so Cluster.Isolate and Partition cut all peer traffic between
// chosen members, both ways; Heal and Stop undo it.
//
// # Nothing left behind
//
// Stop kills every member at once and removes the data. On Linux members
// also die with the test process (a parent-death signal), even when it is
// killed outright; and every Start sweeps the members and data of earlier
// runs whose process died without stopping them.
//
// # etcd binaries
//
// Provision resolves the etcd executable: Config.Binary, $ETCDTEST_BINARY,
// else a managed, cached build of Config.Version / $ETCDTEST_VERSION /
// DefaultVersion compiled from the Go module proxy. etcd 3.4 to 3.7 are
// supported; flags are adapted to the version the executable reports.
//
// # TLS and auth
//
// Config.TLS generates a CA and certificates per cluster and runs client and
// peer traffic over mutual TLS; Config.Auth creates a root user and enables
// authentication. Client and Member.Client are configured accordingly;
// ClientConfig (endpoints, TLS and credentials) and TLSFiles (the same
// certificates as PEM files, for etcdctl) serve clients of your own.
//
// # External clusters
//
// With $ETCDTEST_ENDPOINTS set (comma-separated client URLs; TLS and
// credentials from $ETCDTEST_CACERT, $ETCDTEST_CERT, $ETCDTEST_KEY,
// $ETCDTEST_USER and $ETCDTEST_PASSWORD), Start boots nothing and uses that
// cluster: each Cluster works under its own key prefix through namespaced
// clients, Reset deletes only that prefix, and fault methods return
// ErrExternal (SkipIfExternal skips a Ginkgo spec that needs them).
package etcdtest
