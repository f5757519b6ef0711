// Package proxy is the TCP proxy through which etcdtest injects every fault
// into traffic. A Proxy forwards the connections it accepts on a loopback
// port to one target, chunk by chunk, and its Policy decides what happens to
// each connection and each chunk: forward it, delay it, black-hole it, lose
// it (with its connection), or refuse the connection. etcdtest puts one:
//
//   - in front of each member's peer listener (the member advertises the
//     proxy's URL, so all raft traffic passes through): the cluster's
//     partitions, one-way cuts, latency and loss (etcdtest's peerPolicy,
//     judged by package netfault);
//   - in front of members' client ports, for one client (ClientLink): a
//     pulled cable, latency (Link).
//
// The proxy knows nothing of clusters; what it needs — how to tell who sent
// a connection, how to terminate TLS, what the faults are — comes in through
// its policy:
//
//	p, err := proxy.New("127.0.0.1:2380", pol)
//	url := "http://" + p.Addr()
//	...
//	p.Enforce() // after pol changed: close what it no longer keeps
//	p.Close()
package proxy
