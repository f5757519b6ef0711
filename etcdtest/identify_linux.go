package etcdtest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

const partitionsSupported = true

// connSender returns the index of the member whose process opened conn (a
// connection accepted by a proxy of this cluster), or -1 for anyone else.
// The kernel knows: the connecting socket is the one whose local port is
// conn's remote port, and /proc/<pid>/fd of its owner links to its inode.
func connSender(conn net.Conn, members []*Member) int {
	inode := socketInode(remotePort(conn), conn.LocalAddr().(*net.TCPAddr).Port)
	if inode == "" {
		return -1
	}
	want := "socket:[" + inode + "]"
	for i, m := range members {
		pid := m.pid()
		if pid <= 0 {
			continue
		}
		dir := fmt.Sprintf("/proc/%d/fd", pid)
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if l, err := os.Readlink(dir + "/" + e.Name()); err == nil && l == want {
				return i
			}
		}
	}
	return -1
}

// socketInode finds, in /proc/net/tcp, the inode of the IPv4 socket
// 127.0.0.1:localPort connected to port remotePort.
func socketInode(localPort, remotePort int) string {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return ""
	}
	defer f.Close()
	local := fmt.Sprintf(":%04X", localPort)
	remote := fmt.Sprintf(":%04X", remotePort)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || !strings.HasSuffix(fields[1], local) || !strings.HasSuffix(fields[2], remote) {
			continue
		}
		if _, err := strconv.ParseUint(fields[9], 10, 64); err == nil && fields[9] != "0" {
			return fields[9]
		}
	}
	return ""
}
