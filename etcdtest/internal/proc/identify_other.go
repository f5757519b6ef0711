//go:build !linux

package proc

import "net"

// ConnOwnersKnown reports whether ConnOwner can tell who opened a
// connection on this OS: without /proc, lsof must be on PATH or in
// /usr/sbin, where macOS has it (FreeBSD: pkg install lsof).
var ConnOwnersKnown = lsofPath() != "lsof"

// ConnOwner returns the index in pids of the process that opened conn (a
// loopback TCP connection accepted here), or -1 for anyone else, as lsof
// lists the processes' sockets (ConnOwnerByLsof).
func ConnOwner(conn net.Conn, pids []int) int { return ConnOwnerByLsof(conn, pids) }
