package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/gokarbor/karbor-protection/bank"
)

// Benchmarks against the tempauth S3 endpoint (KARBOR_TEST_S3_TEMPAUTH_*).

// countingTransport counts the requests it sends.
type countingTransport struct {
	n    atomic.Int64
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// benchBucket is kept between runs: writing 10,000 checkpoints takes a
// minute, listing them is what is measured.
const (
	benchBucket   = "karbor-go-bench-10000"
	benchDone     = "/bench/complete"
	benchProvider = "prov-bench"
	benchProject  = "proj-bench"
	benchTotal    = 10_000
)

// openBenchBank opens the kept bench bucket, writing its 10,000
// checkpoints (index.json and the by-provider entry, as Checkpoints.Create
// writes them) if a previous run has not.
func openBenchBank(b *testing.B, pr peer) (*Plugin, *countingTransport) {
	ctx := context.Background()
	ct := &countingTransport{next: http.DefaultTransport}
	p, err := New(ctx, Options{Endpoint: pr.endpoint, AccessKey: pr.access, SecretKey: pr.secret, RetryAttempts: -1, RetryBackoff: -1,
		ObjectBucket: benchBucket, LeaseBucket: benchBucket + "-lease", HTTPClient: &http.Client{Transport: ct}})
	require.NoError(b, err)
	b.Cleanup(func() { _ = p.Close() })
	if _, err := p.GetObject(ctx, benchDone); err == nil {
		return p, ct
	}
	b.Logf("writing %d checkpoints into bucket %s (once)", benchTotal, benchBucket)
	rng := mrand.New(mrand.NewPCG(11, 12))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(32)
	for range benchTotal {
		id := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xfff, rng.Uint32()&0xfff, rng.Uint64()&0xffffffffffff)
		ts := int64(1_764_000_000) + rng.Int64N(365*86400)
		created := time.Unix(ts, 0).UTC().Format(time.DateOnly)
		index, err := json.Marshal(map[string]any{"version": "0.9", "id": id, "status": "available", "owner_id": "bench",
			"project_id": benchProject, "timestamp": ts, "created_at": created, "extra_info": nil,
			"protection_plan": map[string]any{"id": "plan-bench", "name": "bench", "provider_id": benchProvider, "resources": []any{}}})
		require.NoError(b, err)
		g.Go(func() error {
			if err := p.PutObject(gctx, bank.IndexKey(id), bank.Object{Data: index, Serialized: true}); err != nil {
				return err
			}
			return p.PutObject(gctx, bank.ByProviderKey(benchProvider, benchProject, ts, id), bank.Object{Data: []byte(id)})
		})
	}
	require.NoError(b, g.Wait())
	require.NoError(b, p.PutObject(ctx, benchDone, bank.Object{Data: []byte("done")}))
	return p, ct
}

// BenchmarkListNewest50Of10000 lists the newest 50 of one project's 10,000
// checkpoints (Checkpoints.List, desc, limit 50: the index page plus 50
// index.json), and in the same run the baseline: the full listing of that
// index directory, which is what a descending page costs on S3 without
// fences (and the first page of this process still costs). It reports
// requests per page, the first page's requests, the full listing's
// requests and time, and the speed-ups of the page and of its index
// listing alone (without the 50 index.json reads).
func BenchmarkListNewest50Of10000(b *testing.B) {
	pr := s3Peers(b)[0]
	p, ct := openBenchBank(b, pr)
	ctx := context.Background()
	cps := bank.NewCheckpoints(bank.New(p))
	dir := "/indices/by-provider/" + benchProvider + "/" + benchProject + "/"
	newest := bank.ListQuery{ProviderID: benchProvider, ProjectID: benchProject, SortDir: "desc", Limit: 50}

	const fullRuns = 3
	ct.n.Store(0)
	start := time.Now()
	for range fullRuns {
		keys, err := p.ListObjects(ctx, bank.ListOptions{Prefix: dir, Delimiter: true})
		require.NoError(b, err)
		require.Len(b, keys, benchTotal)
	}
	fullNs := float64(time.Since(start).Nanoseconds()) / fullRuns
	fullRequests := float64(ct.n.Load()) / fullRuns

	p.fences = newFenceCache(fenceCachePrefixes)
	ct.n.Store(0)
	res, err := cps.List(ctx, newest)
	require.NoError(b, err)
	require.Len(b, res, 50)
	firstRequests := ct.n.Load()

	// The index page alone (the 50 newest entries, fenced), without the
	// index.json reads, against the full listing of the same directory.
	const pageRuns = 5
	start = time.Now()
	for range pageRuns {
		keys, err := p.ListObjects(ctx, bank.ListOptions{Prefix: dir, Desc: true, Limit: 50, Delimiter: true})
		require.NoError(b, err)
		require.Len(b, keys, 50)
	}
	indexPageNs := float64(time.Since(start).Nanoseconds()) / pageRuns

	ct.n.Store(0)
	var n int
	for b.Loop() {
		res, err := cps.List(ctx, newest)
		if err != nil || len(res) != 50 {
			b.Fatalf("got %d checkpoints, %v", len(res), err)
		}
		n++
	}
	pageNs := float64(b.Elapsed().Nanoseconds()) / float64(n)
	b.ReportMetric(float64(ct.n.Load())/float64(n), "requests/op")
	b.ReportMetric(float64(ct.n.Load())/float64(n)-50, "listing-requests/op")
	b.ReportMetric(float64(firstRequests), "first-page-requests")
	b.ReportMetric(fullRequests, "full-listing-requests")
	b.ReportMetric(fullNs/1e6, "full-listing-ms")
	b.ReportMetric(fullNs/pageNs, "x-faster-than-full-listing")
	b.ReportMetric(indexPageNs/1e6, "index-page-ms")
	b.ReportMetric(fullNs/indexPageNs, "index-page-x-faster")
}

// BenchmarkObjects puts and gets 64 KiB and 10 MiB objects through the
// bank (Section.Put/Get) and, in the same run on the same server, with the
// bare SDK client; it reports the bank's time against the bare client's.
func BenchmarkObjects(b *testing.B) {
	pr := s3Peers(b)[0]
	for _, size := range []int{64 << 10, 10 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			ctx := context.Background()
			p, err := New(ctx, peerOptions(b, pr))
			require.NoError(b, err)
			b.Cleanup(func() { _ = p.Close() })
			sec, err := bank.New(p).Section("/checkpoints/bench/resource-data/r")
			require.NoError(b, err)
			data := make([]byte, size)
			_, _ = rand.Read(data)
			key := "/checkpoints/bench/resource-data/r/raw"

			raw := func() {
				_, err := p.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(p.opts.ObjectBucket), Key: aws.String(key),
					Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(size))})
				require.NoError(b, err)
				out, err := p.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(p.opts.ObjectBucket), Key: aws.String(key)})
				require.NoError(b, err)
				got, err := io.ReadAll(out.Body)
				_ = out.Body.Close()
				require.NoError(b, err)
				require.Len(b, got, size)
			}
			through := func() {
				require.NoError(b, sec.Put(ctx, "data_0", data))
				got, err := sec.Get(ctx, "data_0")
				require.NoError(b, err)
				require.Len(b, got, size)
			}
			raw()
			through()
			const rawRuns = 5
			start := time.Now()
			for range rawRuns {
				raw()
			}
			rawNs := float64(time.Since(start).Nanoseconds()) / rawRuns

			b.SetBytes(int64(2 * size))
			var n int
			for b.Loop() {
				through()
				n++
			}
			bankNs := float64(b.Elapsed().Nanoseconds()) / float64(n)
			b.ReportMetric(rawNs/1e6, "raw-ms")
			b.ReportMetric(bankNs/rawNs, "bank/raw")
		})
	}
}
