package bank_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/internal/banktest"
)

// BenchmarkListNewest50Of10000 lists the newest 50 of one project's 10,000
// checkpoints (the API's default listing, with a limit), and in the same
// run the whole listing as the baseline. It reports the page's time per
// op, index.json reads and bank listings per page, the full listing's time
// and reads, and the speed-up.
func BenchmarkListNewest50Of10000(b *testing.B) {
	const total, page = 10000, 50
	rng := rand.New(rand.NewPCG(7, 7))
	gen := make([]genCheckpoint, total)
	for i := range gen {
		gen[i] = genCheckpoint{ID: randomID(rng), Provider: "prov-a", Project: "p0", Plan: "plan-0", Timestamp: listBase + rng.Int64N(365*86400)}
	}
	dir := scratchDir(b)
	writePythonBank(b, dir, gen)
	counted := &banktest.Plugin{Plugin: openFS(b, dir)}
	cps := bank.NewCheckpoints(bank.New(counted))
	ctx := context.Background()
	newest := bank.ListQuery{ProviderID: "prov-a", ProjectID: "p0", SortDir: "desc", Limit: page}
	all := newest
	all.Limit = 0

	// Baseline, same run: the full listing, which the Python FS bank does
	// for every request (it reads every key, then keeps the last `limit`).
	const fullRuns = 3
	counted.ResetCounts()
	start := time.Now()
	for range fullRuns {
		res, err := cps.List(ctx, all)
		require.NoError(b, err)
		require.Len(b, res, total)
	}
	fullNs := float64(time.Since(start).Nanoseconds()) / fullRuns
	fullReads := float64(counted.Gets.Load()) / fullRuns

	counted.ResetCounts()
	var n int
	for b.Loop() {
		res, err := cps.List(ctx, newest)
		if err != nil || len(res) != page {
			b.Fatalf("got %d checkpoints, %v", len(res), err)
		}
		n++
	}
	pageNs := float64(b.Elapsed().Nanoseconds()) / float64(n)
	b.ReportMetric(float64(counted.Gets.Load())/float64(n), "reads/op")
	b.ReportMetric(float64(counted.Lists.Load())/float64(n), "listings/op")
	b.ReportMetric(fullReads, "full-reads")
	b.ReportMetric(fullNs/1e6, "full-ms")
	b.ReportMetric(fullNs/pageNs, "x-faster-than-full")
}
