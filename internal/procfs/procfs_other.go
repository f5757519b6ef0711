//go:build !linux

package procfs

import (
	"errors"
	"fmt"
)

// errNoProc is every answer where the OS has no /proc.
var errNoProc = fmt.Errorf("procfs: no /proc on this OS: %w", errors.ErrUnsupported)

// State fails: there is no /proc to read it from.
func State(int) (string, error) { return "", errNoProc }

// Alive reports whether pid names a process that is not a zombie, as ps
// reports it: there is no /proc to read it from.
func Alive(pid int) bool { return aliveByPs(pid) }

// ThreadStates fails: there is no /proc to read it from.
func ThreadStates(int) ([]string, error) { return nil, errNoProc }

// Cmdline fails: there is no /proc to read it from.
func Cmdline(int) (string, error) { return "", errNoProc }

// Pids fails: there is no /proc to read it from.
func Pids() ([]int, error) { return nil, errNoProc }

// SocketInode fails: there is no /proc to read it from.
func SocketInode(int, int) (string, error) { return "", errNoProc }

// FileLinks fails: there is no /proc to read it from.
func FileLinks(int) ([]string, error) { return nil, errNoProc }
