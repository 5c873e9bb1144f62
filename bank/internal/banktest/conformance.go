package banktest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
)

// Options are what an instance is opened with: lease windows (a zero
// field means the plugin's default) and the holder its lease records.
type Options struct {
	Expire, Renew, Validity time.Duration
	Holder                  bank.Holder
}

// Instance is a plugin opened by a Factory.
type Instance struct {
	bank.Plugin
	// Crash stops the instance's lease renewal without releasing the
	// lease, as a killed process leaves it.
	Crash func()
}

// Factory opens a new plugin instance on the storage named store:
// instances opened with the same store share it, a store name not used
// before is empty storage (a new directory, container or bucket). The
// factory closes the instance when the test ends.
type Factory func(t *testing.T, store string, o Options) Instance

// waitFor is how long the lease tests wait for a lease to lapse.
const waitFor = 60 * time.Second

// Run checks a bank plugin against the bank.Plugin contract: objects,
// listings, key validation, leases, concurrency and not-found errors. The
// file-system bank is its reference.
func Run(t *testing.T, f Factory) {
	var n int
	var mu sync.Mutex
	store := func(t *testing.T) string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("%s-%d", strings.NewReplacer("/", "-", "_", "-").Replace(strings.ToLower(t.Name())), n)
	}
	open := func(t *testing.T) bank.Plugin { return f(t, store(t), Options{}).Plugin }
	t.Run("Ping", func(t *testing.T) { testPing(t, open(t)) })
	t.Run("ObjectRoundTrip", func(t *testing.T) { testRoundTrip(t, open(t)) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, open(t)) })
	t.Run("List", func(t *testing.T) { testList(t, open(t)) })
	t.Run("ListPaging", func(t *testing.T) { testListPaging(t, open(t)) })
	t.Run("KeyValidation", func(t *testing.T) { testKeys(t, open(t)) })
	t.Run("ConcurrentWriters", func(t *testing.T) {
		s := store(t)
		testConcurrent(t, f(t, s, Options{}), f(t, s, Options{}))
	})
	t.Run("Leases", func(t *testing.T) {
		s := store(t)
		testLeases(t, func(o Options) Instance { return f(t, s, o) })
	})
}

// testPing: an open bank answers the probe, before and after writes, and
// a probe whose caller gave up fails.
func testPing(t *testing.T, p bank.Plugin) {
	ctx := context.Background()
	require.NoError(t, p.Ping(ctx), "a bank just opened is reachable")
	require.NoError(t, p.PutObject(ctx, "/ping/a", bank.Object{Data: []byte("x")}))
	require.NoError(t, p.Ping(ctx))
	keys, err := p.ListObjects(ctx, bank.ListOptions{Prefix: "/"})
	require.NoError(t, err)
	assert.Equal(t, []string{"/ping/a"}, keys, "the probe writes nothing")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	assert.Error(t, p.Ping(cancelled), "a cancelled probe fails")
}

func testRoundTrip(t *testing.T, p bank.Plugin) {
	ctx := context.Background()
	large := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	tests := []struct {
		name string
		obj  bank.Object
	}{
		{"status string", bank.Object{Data: []byte("available")}},
		{"checkpoint id", bank.Object{Data: []byte("8d2c0e4e-0000-4000-8000-000000000000")}},
		{"serialized object", bank.Object{Data: []byte(`{"a": [1, 2], "b": "\u00e9"}`), Serialized: true}},
		{"serialized string", bank.Object{Data: []byte(`"quoted"`), Serialized: true}},
		{"empty", bank.Object{Data: []byte{}}},
		{"binary", bank.Object{Data: []byte{0, 1, 2, 0xff, '\n'}}},
		{"1 MiB", bank.Object{Data: large}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("/checkpoints/c1/resource-data/r1/data_%d", i)
			require.NoError(t, p.PutObject(ctx, key, tc.obj))
			got, err := p.GetObject(ctx, key)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(tc.obj.Data, got.Data), "data differs (%d bytes written, %d read)", len(tc.obj.Data), len(got.Data))
			assert.Equal(t, tc.obj.Serialized, got.Serialized, "serialized")

			// An overwrite replaces the whole object, metadata included.
			require.NoError(t, p.PutObject(ctx, key, bank.Object{Data: []byte("x")}))
			got, err = p.GetObject(ctx, key)
			require.NoError(t, err)
			assert.Equal(t, "x", string(got.Data))
			assert.False(t, got.Serialized)
		})
	}
}

func testNotFound(t *testing.T, p bank.Plugin) {
	ctx := context.Background()
	require.NoError(t, p.PutObject(ctx, "/a/b/c", bank.Object{Data: []byte("x")}))
	for _, key := range []string{"/nope", "/a/b/nope", "/a/b/c/d"} {
		_, err := p.GetObject(ctx, key)
		assert.ErrorIs(t, err, bank.ErrNotFound, "get %s", key)
		assert.ErrorIs(t, p.DeleteObject(ctx, key), bank.ErrNotFound, "delete %s", key)
	}
	require.NoError(t, p.DeleteObject(ctx, "/a/b/c"))
	_, err := p.GetObject(ctx, "/a/b/c")
	assert.ErrorIs(t, err, bank.ErrNotFound, "a deleted object is gone")
	assert.ErrorIs(t, p.DeleteObject(ctx, "/a/b/c"), bank.ErrNotFound, "a second delete")
	keys, err := p.ListObjects(ctx, bank.ListOptions{Prefix: "/"})
	require.NoError(t, err)
	assert.Empty(t, keys)
}

// listKeys have "-" and "." (which sort before "/") beside directories, so
// a backend walking directories in name order would get them wrong.
var listKeys = []string{
	"/checkpoints/c1/index.json",
	"/checkpoints/c1/status",
	"/checkpoints/c1-x/index.json",
	"/checkpoints/c1.y/index.json",
	"/checkpoints/c2/index.json",
	"/checkpoints/c2/resource-data/r1/metadata",
	"/checkpoints/c2/resource-data/r1/status",
	"/checkpoints/c3/index.json",
	"/indices/by-provider/p/proj/1588601234@c1",
	"/indices/by-provider/p/proj/1588601235@c2",
	"/indices/by-provider/p/proj/1588601236@c3",
	"/top",
}

// ModelList is the listing contract of bank.ListOptions computed by brute
// force over all keys.
func ModelList(all []string, o bank.ListOptions) []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range all {
		if !strings.HasPrefix(k, o.Prefix) {
			continue
		}
		if o.Delimiter {
			if i := strings.IndexByte(k[len(o.Prefix):], '/'); i >= 0 {
				k = k[:len(o.Prefix)+i+1]
			}
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	if o.Desc {
		slices.Reverse(out)
	}
	res := []string{}
	for _, k := range out {
		if o.Marker != "" && (!o.Desc && k <= o.Marker || o.Desc && k >= o.Marker) {
			continue
		}
		res = append(res, k)
		if o.Limit > 0 && len(res) == o.Limit {
			break
		}
	}
	return res
}

func putAll(t *testing.T, p bank.Plugin, keys []string) {
	t.Helper()
	for _, k := range keys {
		require.NoError(t, p.PutObject(context.Background(), k, bank.Object{Data: []byte(k)}))
	}
}

func testList(t *testing.T, p bank.Plugin) {
	putAll(t, p, listKeys)
	var cases []bank.ListOptions
	for _, prefix := range []string{"/", "/checkpoints/", "/checkpoints/c1", "/checkpoints/c2/", "/indices/by-provider/p/proj/", "/nothing/", "/to"} {
		for _, marker := range []string{"", "/checkpoints/c1", "/checkpoints/c1/", "/checkpoints/c2/index.json", "/indices/", "/zzz"} {
			for _, limit := range []int{0, 1, 2, 100} {
				for _, desc := range []bool{false, true} {
					for _, delim := range []bool{false, true} {
						cases = append(cases, bank.ListOptions{Prefix: prefix, Marker: marker, Limit: limit, Desc: desc, Delimiter: delim})
					}
				}
			}
		}
	}
	ctx := context.Background()
	for _, o := range cases {
		got, err := p.ListObjects(ctx, o)
		require.NoError(t, err, "%+v", o)
		if got == nil {
			got = []string{}
		}
		assert.Equal(t, ModelList(listKeys, o), got, "%+v", o)
	}
}

// testListPaging walks every listing a page at a time, the way the bank's
// index listings do (the marker is the last name of the previous page,
// a roll-up included).
func testListPaging(t *testing.T, p bank.Plugin) {
	putAll(t, p, listKeys)
	ctx := context.Background()
	for _, prefix := range []string{"/", "/checkpoints/"} {
		for _, desc := range []bool{false, true} {
			for _, delim := range []bool{false, true} {
				for _, limit := range []int{1, 2, 3} {
					o := bank.ListOptions{Prefix: prefix, Desc: desc, Delimiter: delim}
					want := ModelList(listKeys, o)
					var got []string
					for page := 0; page <= len(listKeys); page++ {
						o.Limit = limit
						keys, err := p.ListObjects(ctx, o)
						require.NoError(t, err)
						got = append(got, keys...)
						if len(keys) < limit {
							break
						}
						o.Marker = keys[len(keys)-1]
					}
					assert.Equal(t, want, got, "prefix %s desc %v delimiter %v limit %d", prefix, desc, delim, limit)
				}
			}
		}
	}
}

// testKeys: a plugin refuses what Bank would never pass it, before it
// touches storage.
func testKeys(t *testing.T, p bank.Plugin) {
	ctx := context.Background()
	bad := []string{"", "/", "relative", "/a b", "/a/../b", "/..", "/a//b", "/a/./b", "/trailing/", "/a\x00b", "/é", "/a?b", "/a#b", "/a%2Fb"}
	for _, key := range bad {
		err := p.PutObject(ctx, key, bank.Object{Data: []byte("x")})
		assert.True(t, isKeyError(err), "put %q: %v", key, err)
		_, err = p.GetObject(ctx, key)
		assert.True(t, isKeyError(err), "get %q: %v", key, err)
		err = p.DeleteObject(ctx, key)
		assert.True(t, isKeyError(err), "delete %q: %v", key, err)
	}
	for _, prefix := range []string{"relative", "/a b", "/a/../", "/a//", "/é"} {
		_, err := p.ListObjects(ctx, bank.ListOptions{Prefix: prefix})
		assert.True(t, isKeyError(err), "list %q: %v", prefix, err)
	}
	keys, err := p.ListObjects(ctx, bank.ListOptions{Prefix: "/"})
	require.NoError(t, err)
	assert.Empty(t, keys, "nothing was written")
}

func isKeyError(err error) bool {
	var ke *bank.InvalidKeyError
	var pe *bank.InvalidPathError
	return errors.As(err, &ke) || errors.As(err, &pe)
}

// testConcurrent: writers on two instances sharing the storage never lose
// or mix objects.
func testConcurrent(t *testing.T, a, b Instance) {
	ctx := context.Background()
	const writers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each*2)
	for w := range writers {
		p := a.Plugin
		if w%2 == 1 {
			p = b.Plugin
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := p.PutObject(ctx, fmt.Sprintf("/w/%d/%d", w, i), bank.Object{Data: fmt.Appendf(nil, "%d-%d", w, i)}); err != nil {
					errs <- err
				}
				v := bytes.Repeat([]byte{byte('a' + w)}, 4096)
				if err := p.PutObject(ctx, "/shared", bank.Object{Data: v}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	keys, err := a.ListObjects(ctx, bank.ListOptions{Prefix: "/w/"})
	require.NoError(t, err)
	assert.Len(t, keys, writers*each)
	for w := range writers {
		for i := range each {
			got, err := b.GetObject(ctx, fmt.Sprintf("/w/%d/%d", w, i))
			require.NoError(t, err)
			assert.Equal(t, fmt.Sprintf("%d-%d", w, i), string(got.Data))
		}
	}
	got, err := a.GetObject(ctx, "/shared")
	require.NoError(t, err)
	require.Len(t, got.Data, 4096)
	assert.Equal(t, bytes.Repeat(got.Data[:1], 4096), got.Data, "one writer's whole value")
}

// eventually waits until cond holds, failing the test after waitFor.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, waitFor)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dead reports whether p sees owner without a lease that runs: none
// stored (never, removed, or deleted by the store on expiry) or an expired
// one.
func dead(t *testing.T, p bank.Plugin, owner string) bool {
	t.Helper()
	l, ok, err := p.Lease(context.Background(), owner)
	require.NoError(t, err)
	return !ok || l.Expired(time.Now())
}

func testLeases(t *testing.T, open func(Options) Instance) {
	ctx := context.Background()
	// Swift counts X-Delete-After in whole seconds (rounding down), and a
	// loaded machine may delay a renewal by seconds: 5 s of lease renewed
	// every second leaves room for both.
	short := Options{Expire: 5 * time.Second, Renew: time.Second, Validity: time.Second}
	holderA := bank.Holder{Host: "host-a", Incarnation: "inc-a"}
	before := time.Now()
	a := open(Options{Holder: holderA})
	b := open(Options{Holder: bank.Holder{Host: "host-b", Incarnation: "inc-b"}})
	require.NotEqual(t, a.OwnerID(), b.OwnerID())

	// Acquired at construction, recording the holder and the expiry.
	assert.True(t, a.LeaseValid())
	l, ok, err := b.Lease(ctx, a.OwnerID())
	require.NoError(t, err)
	require.True(t, ok, "b reads a's lease")
	assert.Equal(t, a.OwnerID(), l.OwnerID)
	assert.Equal(t, holderA, l.Holder)
	// Stores keep whole seconds.
	assert.WithinRange(t, l.ExpiresAt, before.Add(600*time.Second-2*time.Second), time.Now().Add(600*time.Second+2*time.Second), "the default 600 s window")
	require.NoError(t, a.RenewLease(ctx))
	require.NoError(t, a.AcquireLease(ctx))
	assert.False(t, dead(t, b, a.OwnerID()))

	all, err := a.Leases(ctx)
	require.NoError(t, err)
	owners := map[string]bank.Lease{}
	for _, l := range all {
		owners[l.OwnerID] = l
	}
	assert.Contains(t, owners, a.OwnerID())
	assert.Contains(t, owners, b.OwnerID())
	assert.Equal(t, holderA, owners[a.OwnerID()].Holder)

	// Owners that never held a lease here, or cannot name one.
	for _, owner := range []string{"never-had-a-lease", "", "..", "a/b", "a b", "/x"} {
		_, ok, err := b.Lease(ctx, owner)
		require.NoError(t, err, "owner %q", owner)
		assert.False(t, ok, "owner %q", owner)
		assert.NoError(t, b.RemoveLease(ctx, owner), "removing the missing lease of %q", owner)
	}

	// A crashed owner (no more renewals) loses validity first, then its
	// lease runs out.
	c := open(short)
	assert.True(t, c.LeaseValid())
	assert.False(t, dead(t, b, c.OwnerID()))
	c.Crash()
	eventually(t, "the crashed owner's own lease becomes invalid", func() bool { return !c.LeaseValid() })
	eventually(t, "the others see the crashed owner's lease run out", func() bool { return dead(t, b, c.OwnerID()) })

	// Renewing takes a lapsed lease again.
	require.NoError(t, c.RenewLease(ctx))
	assert.True(t, c.LeaseValid())
	assert.False(t, dead(t, b, c.OwnerID()))

	// Recovery removes a dead owner's lease.
	require.NoError(t, b.RemoveLease(ctx, c.OwnerID()))
	_, ok, err = b.Lease(ctx, c.OwnerID())
	require.NoError(t, err)
	assert.False(t, ok, "removed")

	// A live owner renews by itself: its stored expiry moves past the
	// first one, and the lease is there all along. What is checked is the
	// renewing, not the window, so the window is long (30 s, renewed
	// every second): no delay of a loaded store's answers can make it
	// lapse here.
	d := open(Options{Expire: 30 * time.Second, Renew: time.Second, Validity: time.Second})
	first, ok, err := b.Lease(ctx, d.OwnerID())
	require.NoError(t, err)
	require.True(t, ok)
	eventually(t, "the lease's expiry moves on", func() bool {
		l, ok, err := b.Lease(ctx, d.OwnerID())
		require.NoError(t, err)
		require.True(t, ok, "a renewed lease disappeared")
		return l.ExpiresAt.After(first.ExpiresAt.Add(time.Second))
	})

	// Closing releases the lease at once.
	require.NoError(t, a.Close())
	assert.False(t, a.LeaseValid())
	assert.True(t, dead(t, b, a.OwnerID()))
}
