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

// FlipBits flips n bits of file in the data of a member that is not
// running (Kill or Stop it first), at offsets drawn from seed within the
// part etcd wrote, like a failing disk:
//
//	Expect(m.Kill()).To(Succeed())
//	Expect(m.FlipBits(etcdtest.WALFile, 8, 1)).To(Succeed())
//	Expect(m.Restart(ctx)).To(MatchError(ContainSubstring("exited"))) // etcd refuses the damaged WAL
//
// See docs/failpoints.md for what etcd does with each kind of damage and
// how to replace the member (RemoveMember, then AddMember).
func (m *Member) FlipBits(file DataFile, n int, seed int64) error {
	path, err := m.dataFile("FlipBits", file)
	if err != nil {
		return err
	}
	offs, err := disk.FlipBits(path, n, seed)
	if err != nil {
		return fmt.Errorf("etcdtest: FlipBits(%s): %w", m.name, err)
	}
	fmt.Fprintf(m.log, "--- etcdtest: flipped %d bits of %s at offsets %v (seed %d) ---\n", n, path, offs, seed)
	return nil
}

// Truncate cuts the last n bytes of what etcd wrote to file in the data of
// a member that is not running, like a write torn by a power cut.
func (m *Member) Truncate(file DataFile, n int64) error {
	path, err := m.dataFile("Truncate", file)
	if err != nil {
		return err
	}
	size, err := disk.Truncate(path, n)
	if err != nil {
		return fmt.Errorf("etcdtest: Truncate(%s): %w", m.name, err)
	}
	fmt.Fprintf(m.log, "--- etcdtest: cut %s to %d bytes ---\n", path, size)
	return nil
}

// dataFile finds file of a member that is not running, for op.
func (m *Member) dataFile(op string, file DataFile) (string, error) {
	l, err := m.local(op)
	if err != nil {
		return "", err
	}
	if st := m.State(); st == Running || st == Paused || st == Removed {
		return "", fmt.Errorf("etcdtest: %s(%s): the member is %s; damage only the data of a member that is not running: Kill or Stop it first", op, m.name, st)
	}
	walDir := ""
	if l.walDir != "" {
		walDir = filepath.Join(l.walDir, m.name)
	}
	path, err := disk.Find(m.dataDir, walDir, file)
	if err != nil {
		return "", fmt.Errorf("etcdtest: %s(%s): %w", op, m.name, err)
	}
	return path, nil
}
