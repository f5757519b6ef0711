package procfs

// Sockets, for telling which process opened a loopback TCP connection: the
// kernel lists each IPv4 socket in /proc/net/tcp with its inode, and each
// of a process's open files is a link in /proc/<pid>/fd, a socket's naming
// that inode ("socket:[12345]").

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// SocketInode returns the inode of the IPv4 TCP socket whose local port is
// localPort and whose peer's port is remotePort, as /proc/net/tcp lists it,
// or "" when it lists none (or only one without an inode: closed, in
// TIME_WAIT).
func SocketInode(localPort, remotePort int) (string, error) {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return "", fmt.Errorf("procfs: TCP sockets: %w", err)
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
			return fields[9], nil
		}
	}
	return "", sc.Err()
}

// FileLinks returns what each open file of pid links to, as
// /proc/<pid>/fd shows it: a path, or for a socket "socket:[<inode>]". A
// file closed between the listing and the read is left out.
func FileLinks(pid int) ([]string, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("procfs: open files of pid %d: %w", pid, err)
	}
	links := make([]string, 0, len(ents))
	for _, e := range ents {
		if l, err := os.Readlink(dir + "/" + e.Name()); err == nil {
			links = append(links, l)
		}
	}
	return links, nil
}
