package provision

import (
	"os"
	"sync"
	"time"
)

// fileCache remembers a fact about an executable per path — the version
// "etcd --version" reports, whether it links gofail — so the process or
// the read it costs is paid once per file. An answer holds while the file
// keeps its size and modification time: a rebuilt or replaced binary is
// asked again.
type fileCache[V any] struct {
	mu sync.Mutex
	m  map[string]fileFact[V]
}

type fileFact[V any] struct {
	size  int64
	mtime time.Time
	v     V
}

// get returns the fact of the file fi describes at path, computing it
// with find when it is not known for the file as it is now.
func (c *fileCache[V]) get(path string, fi os.FileInfo, find func() (V, error)) (V, error) {
	c.mu.Lock()
	f, ok := c.m[path]
	c.mu.Unlock()
	if ok && f.size == fi.Size() && f.mtime.Equal(fi.ModTime()) {
		return f.v, nil
	}
	v, err := find()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]fileFact[V]{}
	}
	c.m[path] = fileFact[V]{size: fi.Size(), mtime: fi.ModTime(), v: v}
	return v, nil
}
