package disk

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestFindNamesTheNewestSegmentAndTheBackend(t *testing.T) {
	data := t.TempDir()
	if _, err := Find(data, "", WAL); err == nil || !strings.Contains(err.Error(), "no WAL segment") {
		t.Errorf("an empty data dir: %v", err)
	}
	for _, n := range []string{"0000000000000000-0000000000000000.wal", "0000000000000001-0000000000000a3c.wal", "0.tmp"} {
		writeFile(t, filepath.Join(data, "member", "wal", n), []byte("x"))
	}
	writeFile(t, filepath.Join(data, "member", "snap", "db"), []byte("x"))
	if p, err := Find(data, "", WAL); err != nil || filepath.Base(p) != "0000000000000001-0000000000000a3c.wal" {
		t.Errorf("Find(WAL) = %s, %v; want the newest segment", p, err)
	}
	if p, err := Find(data, "", Backend); err != nil || p != filepath.Join(data, "member", "snap", "db") {
		t.Errorf("Find(Backend) = %s, %v", p, err)
	}
	walDir := t.TempDir()
	writeFile(t, filepath.Join(walDir, "0000000000000000-0000000000000000.wal"), []byte("x"))
	if p, err := Find(data, walDir, WAL); err != nil || filepath.Dir(p) != walDir {
		t.Errorf("Find with a WAL dir = %s, %v", p, err)
	}
	if _, err := Find(data, "", "snapshot"); err == nil || !strings.Contains(err.Error(), `no data file "snapshot"`) {
		t.Errorf("an unknown file: %v", err)
	}
}

// Bits flip only in the written part, where the seed says, and the same
// seed flips the same bits.
func TestFlipBitsFlipsSeededBitsInTheWrittenPart(t *testing.T) {
	dir := t.TempDir()
	orig := append([]byte(strings.Repeat("record", 100)), make([]byte, 4096)...) // 600 written, then preallocated zeros
	flip := func(seed int64) ([]int64, []byte) {
		p := filepath.Join(dir, "seg.wal")
		writeFile(t, p, orig)
		offs, err := FlipBits(p, 5, seed)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(p)
		return offs, got
	}
	offs, got := flip(1)
	if len(offs) == 0 || len(got) != len(orig) {
		t.Fatalf("offsets %v, size %d", offs, len(got))
	}
	changed := 0
	for i := range got {
		if got[i] != orig[i] {
			changed++
			if i >= 600 {
				t.Errorf("byte %d of the preallocated zeros changed", i)
			}
		}
	}
	if changed == 0 || changed > 5 {
		t.Errorf("%d bytes changed; want 1 to 5", changed)
	}
	if again, _ := flip(1); !reflect.DeepEqual(again, offs) {
		t.Errorf("seed 1 flipped %v, then %v", offs, again)
	}
	if other, _ := flip(2); reflect.DeepEqual(other, offs) {
		t.Error("seeds 1 and 2 flipped the same bits")
	}
	empty := filepath.Join(dir, "empty")
	writeFile(t, empty, make([]byte, 100))
	if _, err := FlipBits(empty, 1, 1); err == nil || !strings.Contains(err.Error(), "nothing written") {
		t.Errorf("all zeros: %v", err)
	}
	if _, err := FlipBits(empty, 0, 1); err == nil {
		t.Error("0 bits flipped without an error")
	}
}

func TestTruncateCutsTheWrittenPart(t *testing.T) {
	p := filepath.Join(t.TempDir(), "seg.wal")
	writeFile(t, p, append([]byte("0123456789"), make([]byte, 100)...))
	size, err := Truncate(p, 3)
	if err != nil || size != 7 {
		t.Fatalf("Truncate = %d, %v; want 7", size, err)
	}
	if got, _ := os.ReadFile(p); string(got) != "0123456" {
		t.Errorf("left %q", got)
	}
	for _, n := range []int64{0, -1, 8} {
		if _, err := Truncate(p, n); err == nil || !strings.Contains(err.Error(), "cut 1 to 7") {
			t.Errorf("Truncate(%d): %v", n, err)
		}
	}
}
