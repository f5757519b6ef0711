//go:build !linux

package etcdtest

import "net"

// Attributing a connection to a member needs Linux's /proc.
const partitionsSupported = false

func (c *Cluster) connSender(net.Conn) int { return -1 }
