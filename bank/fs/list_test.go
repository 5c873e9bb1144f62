package fs

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/internal/banktest"
)

// keysWithTrickyOrder are keys where directory-walk order differs from key
// order: "-" and "." sort before "/".
var keysWithTrickyOrder = []string{
	"/a/b", "/a-b", "/a.c", "/a/a", "/a/z/y", "/a.b/c", "/ab", "/b", "/a-/x",
	"/indices/by-provider/p/proj/1588601234@c1", "/indices/by-provider/p/proj/1588601235@c0",
	"/indices/by-provider/p/proj2/1588601233@c9", "/indices/by-date/2020-05-04/proj/1588601234@c1",
}

func TestListMatchesModel(t *testing.T) {
	p := newPlugin(t, t.TempDir())
	ctx := context.Background()
	for _, k := range keysWithTrickyOrder {
		require.NoError(t, p.PutObject(ctx, k, bank.Object{Data: []byte("x")}))
	}
	tests := []bank.ListOptions{
		{Prefix: "/"},
		{Prefix: "/", Desc: true},
		{Prefix: "/a"},
		{Prefix: "/a/"},
		{Prefix: "/a", Delimiter: true},
		{Prefix: "/", Delimiter: true},
		{Prefix: "/", Delimiter: true, Desc: true, Marker: "/a/"},
		{Prefix: "/", Marker: "/a/b"},
		{Prefix: "/", Marker: "/a/b", Desc: true},
		{Prefix: "/", Marker: "/a", Limit: 3},
		{Prefix: "/", Marker: "/a/zz", Limit: 2, Desc: true},
		{Prefix: "/indices/by-provider/p/", Marker: "/indices/by-provider/p/proj/1588601234@c1"},
		{Prefix: "/indices/by-provider/p/proj/", Limit: 1, Desc: true},
		{Prefix: "/indices/by-provider/p/proj/", Marker: "/indices/by-provider/p/proj/1588601235@c0", Desc: true},
		{Prefix: "/nothing/"},
		{Prefix: "/b/"}, // a file, not a directory: empty as in Python
	}
	for _, o := range tests {
		t.Run(fmt.Sprintf("%+v", o), func(t *testing.T) {
			got, err := p.ListObjects(ctx, o)
			require.NoError(t, err)
			assert.Equal(t, banktest.ModelList(keysWithTrickyOrder, o), got)
		})
	}
}

func TestListRandomisedAgainstModel(t *testing.T) {
	p := newPlugin(t, t.TempDir())
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	parts := []string{"a", "b", "a-", "a.", "a.b", "a_b", "1", "10", "2", "@"}
	seen := map[string]bool{}
	var all []string
	for len(all) < 300 {
		depth := 1 + rng.IntN(4)
		var b strings.Builder
		for range depth {
			b.WriteString("/" + parts[rng.IntN(len(parts))])
		}
		k := b.String()
		if seen[k] || conflicts(seen, k) {
			continue
		}
		seen[k] = true
		all = append(all, k)
		require.NoError(t, p.PutObject(ctx, k, bank.Object{Data: []byte("x")}))
	}
	for i := range 300 {
		o := bank.ListOptions{Prefix: "/", Desc: rng.IntN(2) == 0, Limit: rng.IntN(8), Delimiter: i%5 == 0}
		if rng.IntN(3) > 0 {
			o.Prefix = "/" + parts[rng.IntN(len(parts))] + []string{"", "/"}[rng.IntN(2)]
		}
		if rng.IntN(2) == 0 {
			o.Marker = all[rng.IntN(len(all))]
		}
		got, err := p.ListObjects(ctx, o)
		require.NoError(t, err)
		require.Equal(t, banktest.ModelList(all, o), got, "%+v", o)
	}
}

// conflicts reports whether k is a prefix directory of an existing key or
// has one as a directory (a path cannot be both file and directory).
func conflicts(seen map[string]bool, k string) bool {
	for s := range seen {
		if strings.HasPrefix(s, k+"/") || strings.HasPrefix(k, s+"/") {
			return true
		}
	}
	return false
}

func TestPaginationWalksEveryKeyOnce(t *testing.T) {
	p := newPlugin(t, t.TempDir())
	ctx := context.Background()
	var all []string
	for i := range 57 {
		k := fmt.Sprintf("/d%d/%04d", i%3, i)
		all = append(all, k)
		require.NoError(t, p.PutObject(ctx, k, bank.Object{Data: []byte("x")}))
	}
	sort.Strings(all)
	for _, desc := range []bool{false, true} {
		t.Run(fmt.Sprintf("desc=%v", desc), func(t *testing.T) {
			var walked []string
			marker := ""
			for {
				page, err := p.ListObjects(ctx, bank.ListOptions{Prefix: "/", Marker: marker, Limit: 10, Desc: desc})
				require.NoError(t, err)
				if len(page) == 0 {
					break
				}
				walked = append(walked, page...)
				marker = page[len(page)-1]
			}
			want := slices.Clone(all)
			if desc {
				slices.Reverse(want)
			}
			assert.Equal(t, want, walked)
		})
	}
}

func TestListIgnoresTemporaryAndForeignNames(t *testing.T) {
	dir := t.TempDir()
	p := newPlugin(t, dir)
	ctx := context.Background()
	require.NoError(t, p.PutObject(ctx, "/x/real", bank.Object{Data: []byte("x")}))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "karbor", "x", ".real.tmp~1"), []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "karbor", "x", "with space"), []byte("x"), 0o644))
	keys, err := p.ListObjects(ctx, bank.ListOptions{Prefix: "/"})
	require.NoError(t, err)
	assert.Equal(t, []string{"/x/real"}, keys)
}

func TestListRejectsBadPrefix(t *testing.T) {
	p := newPlugin(t, t.TempDir())
	for _, prefix := range []string{"", "rel/", "/../", "/a/../", "/a b/", "/a//"} {
		t.Run(prefix, func(t *testing.T) {
			_, err := p.ListObjects(context.Background(), bank.ListOptions{Prefix: prefix})
			assert.Error(t, err)
		})
	}
}

// TestPythonSampleObjects reads every object of the bank the Python service
// wrote: listing finds exactly its files, in key order, and every object
// reads back with the encoding Python used.
func TestPythonSampleObjects(t *testing.T) {
	path, sample := banktest.LoadSample(t, "testdata")
	p := newPlugin(t, path)
	ctx := context.Background()

	var want []string
	for _, f := range sample.Files {
		key, ok := strings.CutPrefix(f, "karbor")
		require.True(t, ok, f)
		want = append(want, key)
	}
	sort.Strings(want)
	got, err := p.ListObjects(ctx, bank.ListOptions{Prefix: "/"})
	require.NoError(t, err)
	assert.Equal(t, want, got)

	for _, key := range want {
		obj, err := p.GetObject(ctx, key)
		require.NoError(t, err, key)
		if strings.HasSuffix(key, "/index.json") {
			assert.True(t, obj.Serialized, key)
			continue
		}
		// Index entries hold the checkpoint id, verbatim.
		assert.False(t, obj.Serialized, key)
		assert.Equal(t, key[strings.LastIndexByte(key, '@')+1:], string(obj.Data))
	}
}
