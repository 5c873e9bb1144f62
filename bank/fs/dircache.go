package fs

import (
	"container/list"
	"sync"
	"time"
)

// A listing of a large directory is kept between calls. The karbor API
// lists the newest checkpoints on every dashboard refresh, and the Python
// layout puts all of a project's index entries in one directory: without
// the cache every page reads and sorts the whole directory again (about
// 10 ms of CPU at 10,000 checkpoints).
//
// A cached listing is used only while the directory's status is unchanged
// (device, inode, size, link count, mtime and ctime): creating, removing or
// renaming an entry changes its mtime and ctime, whichever process or host
// does it, and ctime cannot be set back. File-system timestamps are coarse
// (a clock tick, a second on some file systems), so a change made in the
// same tick as the listing would leave the status as it was; a listing is
// therefore cached only once its directory has not changed for
// racyWindow before the read began, which also covers a modest clock skew
// with a file server (leases already assume synchronised clocks).
const (
	racyWindow = 2 * time.Second
	// minCachedEntries: smaller directories cost little to read again.
	minCachedEntries = 256
	// maxCachedEntries bounds the entries held over all directories (about
	// 100 bytes each); the least recently used listings go first.
	maxCachedEntries = 1 << 18
)

// dirStamp identifies one state of a directory.
type dirStamp struct {
	dev, ino, nlink uint64
	size            int64
	mtime, ctime    time.Time
}

// settled reports whether no change to the directory can share its
// timestamps with a read that began at start.
func (s dirStamp) settled(start time.Time) bool {
	limit := start.Add(-racyWindow)
	return s.mtime.Before(limit) && s.ctime.Before(limit)
}

// dirCache holds sorted listings by directory path, least recently used
// last.
type dirCache struct {
	mu      sync.Mutex
	byPath  map[string]*list.Element // of *cachedDir
	lru     list.List
	entries int
	limit   int // entries held at most; 0: maxCachedEntries
}

type cachedDir struct {
	path  string
	stamp dirStamp
	items []dirItem // sorted, shared: never modified
}

// get returns the listing cached for path in state stamp.
func (c *dirCache) get(path string, stamp dirStamp) ([]dirItem, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.byPath[path]
	if e == nil {
		return nil, false
	}
	cd := e.Value.(*cachedDir)
	if cd.stamp != stamp {
		c.remove(e)
		return nil, false
	}
	c.lru.MoveToFront(e)
	return cd.items, true
}

// put caches the listing of path in state stamp.
func (c *dirCache) put(path string, stamp dirStamp, items []dirItem) {
	limit := c.limit
	if limit == 0 {
		limit = maxCachedEntries
	}
	if len(items) > limit {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byPath == nil {
		c.byPath = map[string]*list.Element{}
	}
	if e := c.byPath[path]; e != nil {
		c.remove(e)
	}
	for c.entries+len(items) > limit {
		c.remove(c.lru.Back())
	}
	c.byPath[path] = c.lru.PushFront(&cachedDir{path: path, stamp: stamp, items: items})
	c.entries += len(items)
}

func (c *dirCache) remove(e *list.Element) {
	cd := c.lru.Remove(e).(*cachedDir)
	delete(c.byPath, cd.path)
	c.entries -= len(cd.items)
}
