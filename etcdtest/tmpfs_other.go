//go:build !linux

package etcdtest

func isTmpfs(string) bool { return false }
