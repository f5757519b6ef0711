package etcdtest

import (
	"fmt"
	"path/filepath"

	"github.com/etcd-test-cluster/etcd-test-cluster/etcdtest/internal/disk"
)

// DataFile names a file of a member's data that FlipBits and Truncate damage.
type DataFile = disk.File

// The files of a member's data.
const (
	WALFile     DataFile = disk.WAL     // the newest WAL segment
	BackendFile DataFile = disk.Backend // the bbolt backend (member/snap/db)
)

// FlipBits flips n bits of file, at offsets drawn from seed within what
// etcd wrote, in the data of a member that is not running (Kill or Stop it
// first), like a failing disk. docs/failpoints.md says what etcd does then.
func (m *Member) FlipBits(file DataFile, n int, seed int64) error {
	return m.damage("FlipBits", file, func(path string) (string, error) {
		offs, err := disk.FlipBits(path, n, seed)
		return fmt.Sprintf("flipped %d bits of %s at offsets %v (seed %d)", n, path, offs, seed), err
	})
}

// Truncate cuts the last n bytes of what etcd wrote to file in the data of
// a member that is not running, like a write torn by a power cut.
func (m *Member) Truncate(file DataFile, n int64) error {
	return m.damage("Truncate", file, func(path string) (string, error) {
		size, err := disk.Truncate(path, n)
		return fmt.Sprintf("cut %s to %d bytes", path, size), err
	})
}

// damage finds file of a member that is not running and applies f to it,
// noting in the member's log what f did.
func (m *Member) damage(op string, file DataFile, f func(path string) (string, error)) error {
	l, err := m.local(op)
	if err != nil {
		return err
	}
	if st := m.State(); st == Running || st == Paused || st == Removed {
		return fmt.Errorf("etcdtest: %s(%s): the member is %s; damage only the data of a member that is not running: Kill or Stop it first", op, m.name, st)
	}
	walDir := ""
	if l.walDir != "" {
		walDir = filepath.Join(l.walDir, m.name)
	}
	path, err := disk.Find(m.dataDir, walDir, file)
	if err == nil {
		var did string
		if did, err = f(path); err == nil {
			fmt.Fprintf(m.log, "--- etcdtest: %s ---\n", did)
		}
	}
	if err != nil {
		return fmt.Errorf("etcdtest: %s(%s): %w", op, m.name, err)
	}
	return nil
}
