package host

import "syscall"

// IsTmpfs reports whether path is on tmpfs, whose files are memory: etcd's
// preallocated WAL segments there cost real memory and time to fill.
func IsTmpfs(path string) bool {
	var st syscall.Statfs_t
	return syscall.Statfs(path, &st) == nil && st.Type == 0x01021994 // TMPFS_MAGIC
}
