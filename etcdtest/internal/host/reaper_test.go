package host

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A process that ends without removing its cluster directory (a spare's)
// leaves it to its reaper, which removes it at once — not at the next
// run's sweep.
func TestReaperRemovesTheDirsOfAProcessThatEnded(t *testing.T) {
	parent := t.TempDir()
	cmd := helper(t, "leave-to-reaper", parent)
	cmd.Env = append(cmd.Env, "TMPDIR="+t.TempDir()) // its WAL base, also reaped
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	dir := string(out)
	if !strings.HasPrefix(dir, parent) {
		t.Fatalf("helper made %q, want a directory under %s", dir, parent)
	}
	if !gone(dir, 10*time.Second) {
		t.Fatalf("the reaper left %s behind after its process ended", dir)
	}
}

// The reaper's shell splits its directories at blanks, so a data dir with
// one gets no reaper, and says why.
func TestReaperRefusesDirsWithBlanks(t *testing.T) {
	var r Reaper
	err := r.Watch(filepath.Join(t.TempDir(), "with blank"))
	if err == nil || !strings.Contains(err.Error(), "splits its directories at blanks") {
		t.Fatalf("Watch of a path with a blank: %v, want the refusal", err)
	}
}

// One reaper per directory is enough: watching the same one again starts
// no second shell.
func TestReaperWatchesEachDirOnce(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	var r Reaper
	parent := t.TempDir()
	if err := r.Watch(parent); err != nil {
		t.Fatal(err)
	}
	if err := r.Watch(parent); err != nil {
		t.Fatal(err)
	}
	if n := len(r.lifeline); n != 1 {
		t.Fatalf("%d reapers for one directory, want 1", n)
	}
	if !r.reaped[parent+"/etcdtest-"+strconv.Itoa(os.Getuid())] {
		t.Fatalf("the cluster base under %s is not marked reaped: %v", parent, r.reaped)
	}
}
