package etcdtest

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkSnapshot measures saving a member's snapshot of 1000 keys of
// 1 KiB (Member.Snapshot) and booting a 3-member cluster from it
// (Config.Snapshot: etcdutl restore of each member, then the usual boot),
// with a plain boot in the same run for comparison. Run with:
//
//	go test ./etcdtest -run '^$' -bench Snapshot -benchtime 20x
func BenchmarkSnapshot(b *testing.B) {
	ctx := context.Background()
	c, err := Start(ctx, Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Stop(ctx)
	value := strings.Repeat("x", 1024)
	for i := range 1000 {
		if _, err := c.Client().Put(ctx, "/k"+strconv.Itoa(i), value); err != nil {
			b.Fatal(err)
		}
	}
	file := filepath.Join(b.TempDir(), "bench.db")
	b.Run("save", func(b *testing.B) {
		var saves []time.Duration
		for range b.N {
			t0 := time.Now()
			if err := c.Member(0).Snapshot(ctx, file); err != nil {
				b.Fatal(err)
			}
			saves = append(saves, time.Since(t0))
		}
		report(b, "save", saves)
	})
	// The managed etcdutl build happens once, outside the timings.
	if err := c.Member(0).Snapshot(ctx, file); err != nil {
		b.Fatal(err)
	}
	warm, err := Start(ctx, Config{Size: 1, Snapshot: file})
	if err != nil {
		b.Fatal(err)
	}
	warm.Stop(ctx)
	for _, from := range []string{"", file} {
		name := "boot-from-snapshot"
		if from == "" {
			name = "boot-empty"
		}
		b.Run(name, func(b *testing.B) {
			var boots []time.Duration
			for range b.N {
				t0 := time.Now()
				r, err := Start(ctx, Config{Snapshot: from})
				if err != nil {
					b.Fatal(err)
				}
				boots = append(boots, time.Since(t0))
				if err := r.Stop(ctx); err != nil {
					b.Fatal(err)
				}
			}
			report(b, "boot", boots)
		})
	}
}
