package provision

import (
	"context"
	"testing"
)

// The etcdutl next to the etcd binary is used only when it is the same
// release; otherwise the managed (here: already cached) build is.
func TestEtcdutlPrefersANeighbourOfTheSameRelease(t *testing.T) {
	cache := isolate(t)
	v := Version{3, 6, 16}
	managed := fakeEtcd(t, cacheDir(cache, "etcdutl", v.String()), "etcdutl", "etcdutl version: 3.6.16")
	for _, tc := range []struct {
		name, says string
		neighbour  bool // whether the answer is the one next to etcd
	}{
		{"same release", "etcdutl version: 3.6.16\nAPI version: 3.6", true},
		{"another patch release", "etcdutl version: 3.6.15\nAPI version: 3.6", false},
		{"no version line", "usage: etcdutl", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			next := fakeEtcd(t, dir, "etcdutl", tc.says)
			got, err := Etcdutl(context.Background(), dir, v)
			if err != nil {
				t.Fatal(err)
			}
			want := managed
			if tc.neighbour {
				want = next
			}
			if got != want {
				t.Errorf("Etcdutl = %s; want %s", got, want)
			}
		})
	}
}
