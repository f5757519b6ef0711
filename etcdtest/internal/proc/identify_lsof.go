package proc

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

// ConnOwnerByLsof is ConnOwner where there is no /proc (macOS; FreeBSD
// with lsof installed): lsof lists the TCP sockets of the candidate pids,
// and the dialler's socket is the one named "<conn's remote
// address>-><conn's local address>" — the accepted end reads the other way
// round. Built on every OS so Linux's tests can run it in place of /proc.
func ConnOwnerByLsof(conn net.Conn, pids []int) int {
	index := map[int]int{}
	var list []string
	for i, pid := range pids {
		if _, dup := index[pid]; pid > 0 && !dup {
			index[pid] = i
			list = append(list, strconv.Itoa(pid))
		}
	}
	if len(list) == 0 {
		return -1
	}
	want := "n" + conn.RemoteAddr().String() + "->" + conn.LocalAddr().String()
	// lsof exits 1 when a pid has no TCP socket; what it lists still holds.
	out, _ := exec.Command(lsofPath(), "-nP", "-a", "-p", strings.Join(list, ","), "-iTCP", "-Fpn").Output()
	pid := -1
	for _, line := range strings.Split(string(out), "\n") {
		if p, ok := strings.CutPrefix(line, "p"); ok {
			pid, _ = strconv.Atoi(p)
		} else if line == want {
			if i, ok := index[pid]; ok {
				return i
			}
		}
	}
	return -1
}

// lsofPath is the lsof on PATH, else macOS's own, which a PATH without
// /usr/sbin (an IDE's, a CI runner's) misses; "lsof" if there is none.
var lsofPath = sync.OnceValue(func() string {
	if p, err := exec.LookPath("lsof"); err == nil {
		return p
	}
	if fi, err := os.Stat("/usr/sbin/lsof"); err == nil && fi.Mode()&0o111 != 0 {
		return "/usr/sbin/lsof"
	}
	return "lsof"
})
