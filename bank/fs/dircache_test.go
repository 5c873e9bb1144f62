package fs

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/internal/banktest"
)

// bigDirKeys are the keys of one index directory large enough to be
// cached, plus a few beside it.
func bigDirKeys(n int) []string {
	keys := []string{"/idx/a-side", "/idx/z-side/x"}
	for i := range n {
		keys = append(keys, fmt.Sprintf("/idx/p/%d@%04x", 1588291200+i*7%n, i))
	}
	keys = append(keys, "/idx/p/sub/1", "/idx/p/sub/2", "/idx/p/sub-a")
	return keys
}

// settledPlugin is a plugin whose listings are read an hour from now, so
// that every directory has settled and large ones are cached.
func settledPlugin(t *testing.T, dir string) *Plugin {
	p := newPlugin(t, dir)
	p.readClock = func() time.Time { return time.Now().Add(time.Hour) }
	return p
}

func TestCachedListingMatchesModel(t *testing.T) {
	p := settledPlugin(t, t.TempDir())
	ctx := context.Background()
	keys := bigDirKeys(2 * minCachedEntries)
	for _, k := range keys {
		require.NoError(t, p.PutObject(ctx, k, bank.Object{Data: []byte("x")}))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 400 {
		o := bank.ListOptions{Prefix: "/idx/p/", Desc: rng.IntN(2) == 0, Limit: rng.IntN(60)}
		switch rng.IntN(4) {
		case 0:
			o.Prefix = "/idx/"
		case 1:
			o.Prefix = "/idx/p/" + []string{"15", "1588291", "sub", "s", "9", "158829120"}[rng.IntN(6)]
		}
		if rng.IntN(3) > 0 {
			o.Marker = keys[rng.IntN(len(keys))]
		}
		o.Delimiter = i%7 == 0
		got, err := p.ListObjects(ctx, o)
		require.NoError(t, err)
		require.Equal(t, banktest.ModelList(keys, o), got, "%+v", o)
	}
	assert.Equal(t, 1, p.dirs.lru.Len(), "only the large directory is cached")
}

// TestCachedListingFollowsChanges changes a cached directory through the
// plugin and behind its back (another process, another host): every
// listing after a change shows it.
func TestCachedListingFollowsChanges(t *testing.T) {
	dir := t.TempDir()
	p := settledPlugin(t, dir)
	ctx := context.Background()
	keys := bigDirKeys(minCachedEntries)
	for _, k := range keys {
		require.NoError(t, p.PutObject(ctx, k, bank.Object{Data: []byte("x")}))
	}
	list := func() []string {
		got, err := p.ListObjects(ctx, bank.ListOptions{Prefix: "/idx/p/", Desc: true})
		require.NoError(t, err)
		return got
	}
	want := func() []string {
		return banktest.ModelList(keys, bank.ListOptions{Prefix: "/idx/p/", Desc: true})
	}
	require.Equal(t, want(), list())
	require.Equal(t, want(), list()) // from the cache
	pdir := filepath.Join(dir, "karbor", "idx", "p")

	steps := []struct {
		name   string
		change func()
	}{
		{"put through the plugin", func() {
			require.NoError(t, p.PutObject(ctx, "/idx/p/9999999999@new", bank.Object{Data: []byte("x")}))
			keys = append(keys, "/idx/p/9999999999@new")
		}},
		{"delete through the plugin", func() {
			require.NoError(t, p.DeleteObject(ctx, "/idx/p/9999999999@new"))
			keys = slices.DeleteFunc(keys, func(k string) bool { return k == "/idx/p/9999999999@new" })
		}},
		{"file written by another process", func() {
			require.NoError(t, os.WriteFile(filepath.Join(pdir, "0000000001@other"), []byte("x"), 0o644))
			keys = append(keys, "/idx/p/0000000001@other")
		}},
		{"file removed by another process", func() {
			require.NoError(t, os.Remove(filepath.Join(pdir, "0000000001@other")))
			keys = slices.DeleteFunc(keys, func(k string) bool { return k == "/idx/p/0000000001@other" })
		}},
		{"file renamed by another process", func() {
			old := keys[5]
			require.NoError(t, os.Rename(filepath.Join(dir, "karbor", old), filepath.Join(pdir, "1@renamed")))
			keys[5] = "/idx/p/1@renamed"
		}},
		{"directory replaced", func() {
			tmp := filepath.Join(dir, "karbor", "idx", "p-new")
			require.NoError(t, os.Rename(pdir, tmp))
			require.NoError(t, os.Mkdir(pdir, 0o755))
			for i := range minCachedEntries {
				require.NoError(t, os.WriteFile(filepath.Join(pdir, fmt.Sprintf("2@%04d", i)), []byte("x"), 0o644))
			}
			require.NoError(t, os.RemoveAll(tmp))
			keys = slices.DeleteFunc(keys, func(k string) bool { return filepath.Dir(k) == "/idx/p" || filepath.Dir(filepath.Dir(k)) == "/idx/p" })
			for i := range minCachedEntries {
				keys = append(keys, fmt.Sprintf("/idx/p/2@%04d", i))
			}
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.change()
			require.Equal(t, want(), list())
			require.Equal(t, want(), list())
		})
	}
}

// TestRecentDirectoryIsNotCached: a directory changed within racyWindow of
// the read may change again within the same timestamp tick, unseen by its
// status, so its listing is read afresh each time.
func TestRecentDirectoryIsNotCached(t *testing.T) {
	p := newPlugin(t, t.TempDir())
	ctx := context.Background()
	keys := bigDirKeys(minCachedEntries)
	for _, k := range keys {
		require.NoError(t, p.PutObject(ctx, k, bank.Object{Data: []byte("x")}))
	}
	got, err := p.ListObjects(ctx, bank.ListOptions{Prefix: "/idx/p/"})
	require.NoError(t, err)
	assert.Equal(t, banktest.ModelList(keys, bank.ListOptions{Prefix: "/idx/p/"}), got)
	assert.Zero(t, p.dirs.lru.Len())
}

func TestStampSettled(t *testing.T) {
	read := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	old := read.Add(-racyWindow - time.Nanosecond)
	tests := []struct {
		name         string
		mtime, ctime time.Time
		want         bool
	}{
		{"both old", old, old, true},
		{"changed within the window", old, read.Add(-time.Second), false},
		{"mtime set to the future", read.Add(time.Hour), old, false},
		{"exactly the window before", read.Add(-racyWindow), old, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, dirStamp{mtime: tt.mtime, ctime: tt.ctime}.settled(read))
		})
	}
}

func TestDirCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := dirCache{limit: 10}
	items := func(n int) []dirItem { return make([]dirItem, n) }
	s := dirStamp{ino: 1}
	c.put("a", s, items(4))
	c.put("b", s, items(4))
	_, ok := c.get("a", s) // a is now the most recent
	require.True(t, ok)
	c.put("c", s, items(4)) // evicts b
	_, okA := c.get("a", s)
	_, okB := c.get("b", s)
	_, okC := c.get("c", s)
	assert.Equal(t, []bool{true, false, true}, []bool{okA, okB, okC})
	assert.Equal(t, 8, c.entries)

	c.put("huge", s, items(11)) // larger than the cache: not kept
	_, ok = c.get("huge", s)
	assert.False(t, ok)

	_, ok = c.get("a", dirStamp{ino: 2}) // changed: dropped
	assert.False(t, ok)
	assert.Equal(t, 4, c.entries)
	assert.Equal(t, 1, c.lru.Len())
}
