package s3

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
)

// model is what a listing must return for a set of keys, by
// bank.ListOptions' definition.
func model(keys []string, opts bank.ListOptions) []string {
	seen := map[string]bool{}
	var entries []string
	for _, k := range keys {
		if !strings.HasPrefix(k, opts.Prefix) {
			continue
		}
		e := k
		if opts.Delimiter {
			if i := strings.IndexByte(k[len(opts.Prefix):], '/'); i >= 0 {
				e = k[:len(opts.Prefix)+i+1]
			}
		}
		if seen[e] {
			continue
		}
		seen[e] = true
		if opts.Marker != "" && (!opts.Desc && e <= opts.Marker || opts.Desc && e >= opts.Marker) {
			continue
		}
		entries = append(entries, e)
	}
	slices.Sort(entries)
	if opts.Desc {
		slices.Reverse(entries)
	}
	if opts.Limit > 0 && len(entries) > opts.Limit {
		entries = entries[:opts.Limit]
	}
	if entries == nil {
		entries = []string{}
	}
	return entries
}

// entryKey is an index entry of the karbor layout.
func entryKey(dir string, ts int64, rng *rand.Rand) string {
	return fmt.Sprintf("%s%d@%08x-%04x", dir, ts, rng.Uint32(), rng.Uint32()&0xffff)
}

// TestListingsMatchModel lists random keys in every way, while other
// writers add and remove keys between listings, and compares each answer
// with the model.
func TestListingsMatchModel(t *testing.T) {
	f := newFakeS3(t)
	p := newTestPlugin(t, f)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	dirs := []string{"/indices/by-provider/pv/p1/", "/indices/by-provider/pv/p2/", "/indices/by-date/2026-12-05/p1/", "/checkpoints/"}
	keys := map[string]bool{}
	add := func(n int) {
		for range n {
			dir := dirs[rng.IntN(len(dirs))]
			var k string
			if dir == "/checkpoints/" {
				k = fmt.Sprintf("%scp%03d/%s", dir, rng.IntN(200), []string{"index.json", "status", "resource-data/r/metadata"}[rng.IntN(3)])
			} else {
				k = entryKey(dir, 1_700_000_000+rng.Int64N(1_000_000), rng)
			}
			keys[k] = true
			f.put("karbor", k, fakeObject{data: []byte("x")})
		}
	}
	remove := func(n int) {
		all := sortedKeys(keys)
		for range min(n, len(all)) {
			k := all[rng.IntN(len(all))]
			delete(keys, k)
			f.mu.Lock()
			delete(f.buckets["karbor"], k)
			f.mu.Unlock()
		}
	}
	add(2000)
	prefixes := append(slices.Clone(dirs), "/", "/indices/", "/indices/by-provider/pv/", "/indices/by-provider/pv/p1/17000", "/checkpoints/cp0")
	for i := range 150 {
		switch i % 10 {
		case 3:
			add(rng.IntN(150))
		case 7:
			remove(rng.IntN(300))
		}
		all := sortedKeys(keys)
		opts := bank.ListOptions{
			Prefix:    prefixes[rng.IntN(len(prefixes))],
			Desc:      rng.IntN(3) > 0,
			Delimiter: rng.IntN(2) == 0,
			Limit:     []int{0, 1, 7, 50, 250, 1000, 1500}[rng.IntN(7)],
		}
		switch rng.IntN(4) {
		case 1: // an existing key
			opts.Marker = all[rng.IntN(len(all))]
		case 2: // an entry name that may not exist (another project's position)
			opts.Marker = entryKey(dirs[rng.IntN(3)], 1_700_000_000+rng.Int64N(1_000_000), rng)
		case 3: // a roll-up
			if m := model(all, bank.ListOptions{Prefix: opts.Prefix, Delimiter: true}); len(m) > 0 {
				opts.Marker = m[rng.IntN(len(m))]
			}
		}
		got, err := p.ListObjects(ctx, opts)
		require.NoError(t, err, "%+v", opts)
		want := model(all, opts)
		if !slices.Equal(want, got) {
			t.Fatalf("listing %d %+v:\n got %d entries %v\nwant %d entries %v", i, opts, len(got), head(got), len(want), head(want))
		}
	}
}

func head(s []string) []string { return s[:min(len(s), 5)] }

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestListingCost counts requests and listed entries: an ascending page
// costs one request of the page; a descending page costs one full listing
// of the prefix the first time, then one request of about the page plus
// 100-200 entries, whatever others wrote or deleted meanwhile.
func TestListingCost(t *testing.T) {
	f := newFakeS3(t)
	p := newTestPlugin(t, f)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	const dir = "/indices/by-provider/pv/p1/"
	var keys []string
	for range 10_000 {
		k := entryKey(dir, 1_700_000_000+rng.Int64N(365*86400), rng)
		keys = append(keys, k)
		f.put("karbor", k, fakeObject{data: []byte("x")})
	}
	slices.Sort(keys)
	listed := func() int {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.listed
	}
	check := func(name string, opts bank.ListOptions, maxRequests, maxListed int) {
		t.Helper()
		f.resetCounts()
		got, err := p.ListObjects(ctx, opts)
		require.NoError(t, err)
		require.Equal(t, model(keys, opts), got, name)
		assert.LessOrEqual(t, f.count("GET list"), maxRequests, "%s: requests", name)
		assert.LessOrEqual(t, listed(), maxListed, "%s: entries listed", name)
	}
	check("ascending page", bank.ListOptions{Prefix: dir, Marker: keys[5000], Limit: 50}, 1, 50)
	check("descending, first time", bank.ListOptions{Prefix: dir, Desc: true, Limit: 50}, 10, 10_000)
	check("descending, fenced", bank.ListOptions{Prefix: dir, Desc: true, Limit: 50}, 1, 250)
	check("descending, next page", bank.ListOptions{Prefix: dir, Desc: true, Limit: 50, Marker: keys[len(keys)-51]}, 1, 250)
	check("descending, deep page", bank.ListOptions{Prefix: dir, Desc: true, Limit: 50, Marker: keys[3333]}, 1, 300)
	check("descending, API default", bank.ListOptions{Prefix: dir, Desc: true, Limit: 1000}, 2, 1300)

	// Another instance adds 30 newer entries.
	for range 30 {
		k := entryKey(dir, 1_900_000_000+rng.Int64N(1000), rng)
		keys = append(keys, k)
		f.put("karbor", k, fakeObject{data: []byte("x")})
	}
	slices.Sort(keys)
	check("descending after inserts", bank.ListOptions{Prefix: dir, Desc: true, Limit: 50}, 1, 300)

	// ... and deletes the newest 400.
	for _, k := range keys[len(keys)-400:] {
		f.mu.Lock()
		delete(f.buckets["karbor"], k)
		f.mu.Unlock()
	}
	keys = keys[:len(keys)-400]
	check("descending after deletes", bank.ListOptions{Prefix: dir, Desc: true, Limit: 50}, 4, 700)
	check("descending after deletes, again", bank.ListOptions{Prefix: dir, Desc: true, Limit: 50}, 1, 250)
}

func TestFenceCacheEvicts(t *testing.T) {
	c := newFenceCache(2)
	for i, k := range []fenceKey{{prefix: "/a/"}, {prefix: "/b/"}, {prefix: "/a/"}, {prefix: "/c/"}} {
		c.update(k, "", "", []string{fmt.Sprint(i)})
	}
	assert.Equal(t, []string{"2"}, c.get(fenceKey{prefix: "/a/"}))
	assert.Nil(t, c.get(fenceKey{prefix: "/b/"}), "least recently used")
	assert.Equal(t, []string{"3"}, c.get(fenceKey{prefix: "/c/"}))

	c.update(fenceKey{prefix: "/a/"}, "", "", []string{"a1", "a3", "a5", "a7"})
	c.update(fenceKey{prefix: "/a/"}, "a1", "a7", []string{"a4"})
	assert.Equal(t, []string{"a1", "a4", "a7"}, c.get(fenceKey{prefix: "/a/"}))
}
