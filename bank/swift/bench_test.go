package swift

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/containers"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/objects"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/swift/swifttest"
)

// countingTransport counts the HTTP requests a plugin makes.
type countingTransport struct {
	rt http.RoundTripper
	n  atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.rt.RoundTrip(r)
}

// benchListContainer holds one project's 10,000 by-provider index entries.
// It is kept between runs (made once, then reused) so the benchmark costs
// its measurement, not 10,000 uploads each time.
const (
	benchListContainer = "karbor-bench-list-10000"
	benchProvider      = "b766f37c-d011-4026-8228-28730d734a3f"
	benchProject       = "f0e1d2c3-b4a5-4678-9abc-def012345678"
	benchTotal         = 10000
)

func fillListContainer(b *testing.B, acct swifttest.Account) {
	sc := acct.Client(b)
	ctx := context.Background()
	h := containers.Get(ctx, sc, benchListContainer, nil)
	if h.Err == nil {
		if hdr, err := h.Extract(); err == nil && hdr.ObjectCount == benchTotal {
			return
		}
	}
	require.NoError(b, containers.Create(ctx, sc, benchListContainer, nil).Err)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i := range benchTotal {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012d", i, i)
		name := fmt.Sprintf("/indices/by-provider/%s/%s/%d@%s", benchProvider, benchProject, 1795000000+int64(i)*37, id)
		g.Go(func() error {
			return objects.Create(gctx, sc, benchListContainer, name, objects.CreateOpts{
				Content: bytes.NewReader([]byte(id)), Metadata: map[string]string{"Serialized": "False"},
			}).Err
		})
	}
	require.NoError(b, g.Wait())
}

// BenchmarkListNewest50Of10000 lists the ids of the newest 50 of one
// project's 10,000 checkpoints through the bank on the real Swift, and in
// the same run the full listing (what the Python plugin's list_objects
// does for any page: no limit, whole container prefix). It reports Swift
// requests per page, the full listing's time and requests, and the ratio.
func BenchmarkListNewest50Of10000(b *testing.B) {
	acct := swifttest.Keystone(b)
	fillListContainer(b, acct)
	opts := realOptions(b, benchListContainer)
	require.NoError(b, opts.setDefaults())
	counter := &countingTransport{rt: opts.HTTPClient.Transport}
	opts.HTTPClient = &http.Client{Transport: counter}
	p := openReal(b, opts)
	cps := bank.NewCheckpoints(bank.New(p))
	ctx := context.Background()
	newest := bank.ListQuery{ProviderID: benchProvider, ProjectID: benchProject, SortDir: "desc", Limit: 50}
	all := newest
	all.Limit = 0

	const fullRuns = 3
	counter.n.Store(0)
	start := time.Now()
	for range fullRuns {
		ids, err := cps.ListIDs(ctx, all)
		require.NoError(b, err)
		require.Len(b, ids, benchTotal)
	}
	fullNs := float64(time.Since(start).Nanoseconds()) / fullRuns
	fullReqs := float64(counter.n.Load()) / fullRuns

	counter.n.Store(0)
	var n int
	for b.Loop() {
		ids, err := cps.ListIDs(ctx, newest)
		if err != nil || len(ids) != 50 {
			b.Fatalf("got %d ids, %v", len(ids), err)
		}
		n++
	}
	pageNs := float64(b.Elapsed().Nanoseconds()) / float64(n)
	b.ReportMetric(float64(counter.n.Load())/float64(n), "requests/op")
	b.ReportMetric(fullReqs, "full-requests")
	b.ReportMetric(fullNs/1e6, "full-ms")
	b.ReportMetric(fullNs/pageNs, "x-faster-than-full")
}

// BenchmarkObject puts and gets 64 KiB and 10 MiB objects through the bank
// plugin and, in the same run, with gophercloud's objects package on the
// same Swift; it reports the plugin's time as a multiple of the raw
// client's (1.0 = no overhead).
func BenchmarkObject(b *testing.B) {
	acct := swifttest.Keystone(b)
	container := testContainer(b)
	p := openReal(b, realOptions(b, container))
	sc := acct.Client(b)
	ctx := context.Background()
	for _, size := range []int{64 << 10, 10 << 20} {
		data := bytes.Repeat([]byte("karbor-0"), size/8)
		key := "/checkpoints/bench/data_" + strconv.Itoa(size)
		raw := map[string]func() error{
			"put": func() error {
				return objects.Create(ctx, sc, container, key, objects.CreateOpts{Content: bytes.NewReader(data), Metadata: map[string]string{"Serialized": "False"}}).Err
			},
			"get": func() error {
				r := objects.Download(ctx, sc, container, key, nil)
				if r.Err != nil {
					return r.Err
				}
				body, err := r.ExtractContent()
				if err == nil && len(body) != size {
					err = fmt.Errorf("got %d bytes", len(body))
				}
				return err
			},
		}
		viaBank := map[string]func() error{
			"put": func() error { return p.PutObject(ctx, key, bank.Object{Data: data}) },
			"get": func() error {
				o, err := p.GetObject(ctx, key)
				if err == nil && len(o.Data) != size {
					err = fmt.Errorf("got %d bytes", len(o.Data))
				}
				return err
			},
		}
		for _, op := range []string{"put", "get"} {
			b.Run(fmt.Sprintf("%s-%dKiB", op, size>>10), func(b *testing.B) {
				require.NoError(b, viaBank["put"]())
				b.SetBytes(int64(size))
				// Raw and bank operations alternate, so both see the same
				// load on the shared server.
				var rawTotal, bankTotal time.Duration
				var n int
				for b.Loop() {
					b.StopTimer()
					start := time.Now()
					if err := raw[op](); err != nil {
						b.Fatal(err)
					}
					rawTotal += time.Since(start)
					b.StartTimer()
					start = time.Now()
					if err := viaBank[op](); err != nil {
						b.Fatal(err)
					}
					bankTotal += time.Since(start)
					n++
				}
				rawNs := float64(rawTotal.Nanoseconds()) / float64(n)
				bankNs := float64(bankTotal.Nanoseconds()) / float64(n)
				b.ReportMetric(rawNs/1e6, "raw-ms")
				b.ReportMetric(bankNs/rawNs, "x-of-raw")
			})
		}
	}
}
