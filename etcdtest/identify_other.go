//go:build !linux

package etcdtest

import "net"

// Attributing a connection to a member needs Linux's /proc.
const partitionsSupported = false

func connSender(net.Conn, []*Member) int { return -1 }
