package proc

import (
	"net"
	"strconv"

	"github.com/etcd-test-cluster/etcd-test-cluster/internal/procfs"
)

// ConnOwnersKnown reports whether ConnOwner can tell who opened a
// connection on this OS.
const ConnOwnersKnown = true

// ConnOwner returns the index in pids of the process that opened conn (a
// loopback TCP connection accepted here), or -1 for anyone else. The
// kernel knows: the connecting socket is the one whose local port is
// conn's remote port, and /proc/<pid>/fd of its owner links to its inode.
func ConnOwner(conn net.Conn, pids []int) int {
	inode, err := procfs.SocketInode(remotePort(conn), conn.LocalAddr().(*net.TCPAddr).Port)
	if err != nil || inode == "" {
		return -1
	}
	want := "socket:[" + inode + "]"
	for i, pid := range pids {
		if pid <= 0 {
			continue
		}
		links, err := procfs.FileLinks(pid)
		if err != nil {
			continue
		}
		for _, l := range links {
			if l == want {
				return i
			}
		}
	}
	return -1
}

func remotePort(c net.Conn) int {
	_, port, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(port)
	return n
}
