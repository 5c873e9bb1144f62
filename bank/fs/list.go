package fs

import (
	"context"
	"errors"
	"slices"
	"strings"

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
	if w.opts.Desc {
		slices.Reverse(items)
	}
	for _, it := range items {
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
// (symlinks, devices) are left out.
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
	entries, err := readDirEntries(d)
	if err != nil {
		return nil, err
	}
	items := make([]dirItem, 0, len(entries))
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, namePrefix) || !bank.ValidKeyChars(n) || n == "." || n == ".." {
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
	return items, nil
}
