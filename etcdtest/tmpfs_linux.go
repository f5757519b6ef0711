package etcdtest

import "syscall"

func isTmpfs(path string) bool {
	var st syscall.Statfs_t
	return syscall.Statfs(path, &st) == nil && st.Type == 0x01021994 // TMPFS_MAGIC
}
