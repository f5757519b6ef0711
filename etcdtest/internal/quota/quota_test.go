package quota

import "testing"

// Fill and Probe run against real clusters in etcdtest's space specs
// (ExhaustSpace, RecoverSpace); here, the size of its writes.
func TestChunkIsASixteenthWithinBounds(t *testing.T) {
	for _, tc := range []struct{ q, want int64 }{
		{256 << 10, 16 << 10}, // the smallest quota etcdtest takes
		{1 << 20, 64 << 10},
		{16 << 20, 512 << 10}, // the largest ExhaustSpace fills
		{32 << 10, 4 << 10},   // never below 4 KiB
		{1 << 30, 512 << 10},  // never above 512 KiB
	} {
		if got := Chunk(tc.q); got != tc.want {
			t.Errorf("Chunk(%d) = %d, want %d", tc.q, got, tc.want)
		}
	}
}
