// Package disk damages the files of a stopped etcd member's data the way a
// failing disk does: bits flipped in, or the end cut off, the written part
// of its newest WAL segment or its backend. It knows nothing of clusters;
// etcdtest checks that the member is not running before it calls here.
//
//	path, err := disk.Find(dataDir, walDir, disk.WAL)
//	offsets, err := disk.FlipBits(path, 8, seed) // seeded: the same seed flips the same bits
package disk

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
)

// File names a file of a member's data.
type File string

// The files a member's data has.
const (
	WAL     File = "wal"     // the newest WAL segment, member/wal/*.wal (or under --wal-dir)
	Backend File = "backend" // the bbolt backend, member/snap/db
)

// Find returns the path of file in the data of a member whose data dir is
// dataDir and WAL dir walDir ("" for dataDir/member/wal).
func Find(dataDir, walDir string, file File) (string, error) {
	switch file {
	case Backend:
		p := filepath.Join(dataDir, "member", "snap", "db")
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("the member has no backend file yet: %w", err)
		}
		return p, nil
	case WAL:
		if walDir == "" {
			walDir = filepath.Join(dataDir, "member", "wal")
		}
		segs, err := filepath.Glob(filepath.Join(walDir, "*.wal"))
		if err != nil || len(segs) == 0 {
			return "", fmt.Errorf("the member has no WAL segment in %s yet (%v)", walDir, err)
		}
		sort.Strings(segs) // named <seq>-<index>.wal in hex, fixed width: the last is the newest
		return segs[len(segs)-1], nil
	}
	return "", fmt.Errorf("no data file %q: use the WAL or the backend", file)
}

// written is the length of the file's written part: up to its last
// non-zero byte. etcd preallocates WAL segments with zeros, and bits
// flipped there would read as a torn tail, not as damage.
func written(f *os.File) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	const chunk = 1 << 20
	buf := make([]byte, chunk)
	for end := fi.Size(); end > 0; {
		start := max(end-chunk, 0)
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		for j := n - 1; j >= 0; j-- {
			if buf[j] != 0 {
				return start + int64(j) + 1, nil
			}
		}
		end = start
	}
	return 0, nil
}

// FlipBits flips n bits at offsets drawn from seed within the written part
// of the file at path, and returns the byte offsets it changed, ascending.
func FlipBits(path string, n int, seed int64) ([]int64, error) {
	if n <= 0 {
		return nil, fmt.Errorf("flip %d bits: flip at least one", n)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, err := written(f)
	if err != nil {
		return nil, err
	}
	if size == 0 {
		return nil, fmt.Errorf("%s has nothing written to flip", path)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	var offsets []int64
	for range n {
		off, bit := rng.Int64N(size), byte(1)<<rng.IntN(8)
		b := []byte{0}
		if _, err := f.ReadAt(b, off); err != nil {
			return nil, err
		}
		b[0] ^= bit
		if _, err := f.WriteAt(b, off); err != nil {
			return nil, err
		}
		offsets = append(offsets, off)
	}
	slices.Sort(offsets)
	return slices.Compact(offsets), f.Sync()
}

// Truncate cuts the last n bytes of the written part of the file at path
// (the zeros preallocated after it go too) and returns the new size.
func Truncate(path string, n int64) (int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	size, err := written(f)
	if err != nil {
		return 0, err
	}
	if n <= 0 || n > size {
		return 0, fmt.Errorf("cut %d bytes of %s: it has %d written; cut 1 to %d", n, path, size, size)
	}
	if err := f.Truncate(size - n); err != nil {
		return 0, err
	}
	return size - n, f.Sync()
}
