package fs

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gokarbor/karbor-protection/bank"
)

// ListObjects walks the prefix's directory depth first, each directory's
// entries sorted so the walk yields keys in byte-wise key order (a
// directory sorts as its name plus "/"). Subtrees wholly on the wrong side
// of the marker are skipped unread, and the walk stops at the limit, so a
// page costs the directories on its path, not the bank.
//
// Python's plugin returns os.walk order, ignores marker and direction and
// keeps the last `limit` keys; see the package doc.
func (p *Plugin) ListObjects(ctx context.Context, opts bank.ListOptions) ([]string, error) {
	if err := checkKey(opts.Prefix, true); err != nil {
		return nil, err
	}
	cut := strings.LastIndexByte(opts.Prefix, '/') + 1
	w := &walker{p: p, opts: opts, keys: []string{}}
	if err := w.walk(ctx, opts.Prefix[:cut], opts.Prefix[cut:]); err != nil && !errors.Is(err, errLimit) {
		return nil, err
	}
	return w.keys, nil
}

// errLimit stops a walk that has its page.
var errLimit = errors.New("limit reached")

type walker struct {
	p    *Plugin
	opts bank.ListOptions
	keys []string
}

type dirItem struct {
	sortName string // name, plus "/" for a directory
	isDir    bool
}

// walk lists the directory of key dirKey (ending in "/"), keeping entries
// whose names start with namePrefix.
func (w *walker) walk(ctx context.Context, dirKey, namePrefix string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	items, err := w.p.readDir(strings.TrimSuffix(w.p.objectPath(dirKey), "/"), namePrefix)
	if err != nil {
		return err
	}
	// items may be the cache's: read it, never reorder it.
	from, to := w.markerBounds(dirKey, items)
	for i := range to - from {
		it := items[from+i]
		if w.opts.Desc {
			it = items[to-1-i]
		}
		key := dirKey + it.sortName
		if it.isDir && !w.opts.Delimiter {
			if w.skipSubtree(key) {
				continue
			}
			if err := w.walk(ctx, key, ""); err != nil {
				return err
			}
			continue
		}
		if !w.afterMarker(key) {
			continue
		}
		w.keys = append(w.keys, key)
		if w.opts.Limit > 0 && len(w.keys) >= w.opts.Limit {
			return errLimit
		}
	}
	return nil
}

// markerBounds narrows a directory's sorted items to those that can come
// after the marker, so that a page deep in a large directory does not
// compare every entry before it: ascending, from the first item above the
// marker or holding it (a directory that is a prefix of it); descending,
// up to the last item below it. afterMarker and skipSubtree still decide
// each item.
func (w *walker) markerBounds(dirKey string, items []dirItem) (from, to int) {
	rest, ok := strings.CutPrefix(w.opts.Marker, dirKey)
	if w.opts.Marker == "" || !ok {
		return 0, len(items)
	}
	if w.opts.Desc {
		n, _ := slices.BinarySearchFunc(items, rest, func(it dirItem, m string) int { return strings.Compare(it.sortName, m) })
		return 0, n
	}
	n := sort.Search(len(items), func(i int) bool { return items[i].sortName > rest })
	if n > 0 && items[n-1].isDir && strings.HasPrefix(rest, items[n-1].sortName) {
		n--
	}
	return n, len(items)
}

// afterMarker reports whether key comes after the marker in listing order.
func (w *walker) afterMarker(key string) bool {
	m := w.opts.Marker
	if m == "" {
		return true
	}
	if w.opts.Desc {
		return key < m
	}
	return key > m
}

// skipSubtree reports whether every key under dir (ending in "/") is on
// the wrong side of the marker: true when dir is not a prefix of the marker
// and sorts before it (ascending) or after it (descending).
func (w *walker) skipSubtree(dir string) bool {
	m := w.opts.Marker
	if m == "" || strings.HasPrefix(m, dir) {
		return false
	}
	if w.opts.Desc {
		return dir > m
	}
	return dir < m
}

// readDir returns a directory's entries in key order. A missing path or a
// file lists as empty (as in Python). Names that cannot be keys (temporary
// or foreign files) and anything but regular files and directories
// (symlinks, devices) are left out. A large directory's listing comes from
// the cache while the directory is unchanged (dircache.go); the slice
// returned must not be modified.
func (p *Plugin) readDir(name, namePrefix string) ([]dirItem, error) {
	d, err := p.root.Open(name)
	if notExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer d.Close()
	st, err := d.Stat()
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, nil
	}
	stamp, stamped := stampOf(st)
	if stamped {
		if items, ok := p.dirs.get(name, stamp); ok {
			return withPrefix(items, namePrefix), nil
		}
	}
	start := time.Now()
	if p.readClock != nil {
		start = p.readClock()
	}
	entries, err := readDirEntries(d)
	if err != nil {
		return nil, err
	}
	// A listing worth caching is kept whole; others only what was asked.
	cache := stamped && len(entries) >= minCachedEntries && stamp.settled(start)
	keep := namePrefix
	if cache {
		keep = ""
	}
	items := make([]dirItem, 0, len(entries))
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, keep) || !bank.ValidKeyChars(n) || n == "." || n == ".." {
			continue
		}
		switch t := e.Type(); {
		case t.IsDir():
			items = append(items, dirItem{sortName: n + "/", isDir: true})
		case t.IsRegular():
			items = append(items, dirItem{sortName: n})
		}
	}
	slices.SortFunc(items, func(a, b dirItem) int { return strings.Compare(a.sortName, b.sortName) })
	if cache {
		p.dirs.put(name, stamp, items)
		return withPrefix(items, namePrefix), nil
	}
	return items, nil
}

// withPrefix is the run of sorted items whose names start with prefix
// (without "/", so a directory's sortName starts with it exactly when its
// name does).
func withPrefix(items []dirItem, prefix string) []dirItem {
	if prefix == "" {
		return items
	}
	from := sort.Search(len(items), func(i int) bool { return items[i].sortName >= prefix })
	to := from + sort.Search(len(items)-from, func(i int) bool { return !strings.HasPrefix(items[from+i].sortName, prefix) })
	return items[from:to]
}
