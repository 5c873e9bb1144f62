package bank_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/internal/banktest"
)

// genCheckpoint is a checkpoint written straight in the Python layout.
type genCheckpoint struct {
	ID, Provider, Project, Plan string
	Timestamp                   int64
	Deleted                     bool
}

func (g genCheckpoint) date() string { return time.Unix(g.Timestamp, 0).UTC().Format(time.DateOnly) }
func (g genCheckpoint) entry() string {
	return fmt.Sprintf("%d@%s", g.Timestamp, g.ID)
}

// writePythonBank lays checkpoints out as the Python service would (index
// keys only for those not deleted), without going through this package.
func writePythonBank(t testing.TB, path string, cps []genCheckpoint) {
	t.Helper()
	c := filepath.Join(path, "karbor")
	for _, g := range cps {
		status := "available"
		if g.Deleted {
			status = "deleted"
		}
		index := fmt.Sprintf(`{"version": "0.9", "id": "%s", "status": "%s", "owner_id": "9c4014a6-0890-420c-9748-3c928b5f9123", "provider_id": "%s", "project_id": "%s", "protection_plan": {"id": "%s", "name": "plan", "provider_id": "%s", "resources": []}, "extra_info": null, "created_at": "%s", "timestamp": %d, "resource_graph": "[{}, []]"}`,
			g.ID, status, g.Provider, g.Project, g.Plan, g.Provider, g.date(), g.Timestamp)
		writeFile(t, filepath.Join(c, "checkpoints", g.ID, "index.json"), index)
		if g.Deleted {
			continue
		}
		for _, dir := range []string{
			filepath.Join(c, "indices", "by-provider", g.Provider, g.Project),
			filepath.Join(c, "indices", "by-date", g.date(), g.Project),
			filepath.Join(c, "indices", "by-plan", g.Plan, g.Project, g.date()),
		} {
			require.NoError(t, os.MkdirAll(dir, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, g.entry()), []byte(g.ID), 0o644))
		}
	}
}

// randomID is a UUID-shaped id from rng, so id order is unrelated to time.
func randomID(rng *rand.Rand) string {
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<12), rng.IntN(1<<12), rng.Uint64()&(1<<48-1))
}

const listBase = 1588291200 // 2020-05-01T00:00:00Z

var (
	listProjects = []string{"p0", "p1", "p2", "p3", "p4"}
	listPlans    = []string{"plan-0", "plan-1", "plan-2", "plan-3", "plan-4", "plan-5", "plan-6", "plan-7"}
)

// generateBank makes n checkpoints over 30 days, 5 projects, 8 plans (each
// used by several projects), two providers; a fifth share a timestamp with
// another checkpoint and one in twenty is deleted.
func generateBank(n int) []genCheckpoint {
	rng := rand.New(rand.NewPCG(4, 2))
	var out []genCheckpoint
	for i := range n {
		g := genCheckpoint{
			ID:        randomID(rng),
			Provider:  "prov-a",
			Project:   listProjects[rng.IntN(len(listProjects))],
			Plan:      listPlans[rng.IntN(len(listPlans))],
			Timestamp: listBase + rng.Int64N(30*86400),
			Deleted:   rng.IntN(20) == 0,
		}
		if rng.IntN(10) == 0 {
			g.Provider = "prov-b"
		}
		if i > 0 && rng.IntN(5) == 0 {
			g.Timestamp = out[rng.IntN(len(out))].Timestamp
		}
		out = append(out, g)
	}
	return out
}

// modelList is what a listing must return, by brute force.
func modelList(all []genCheckpoint, q bank.ListQuery, today string) []string {
	project, allTenants := q.ProjectID, q.AllTenants
	if q.FilterProjectID != "" && allTenants {
		project, allTenants = q.FilterProjectID, false
	}
	lo, hi := q.StartDate, q.EndDate
	dated := lo != "" || hi != ""
	if lo != "" && hi == "" {
		hi = today
	}
	lo, _ = bank.ParseDate(lo) // zero-pads "2020-5-15"; "" stays ""
	hi, _ = bank.ParseDate(hi)
	var keep []genCheckpoint
	for _, g := range all {
		switch {
		case g.Deleted, !allTenants && g.Project != project:
			continue
		case q.PlanID != "" && g.Plan != q.PlanID:
			continue
		case q.PlanID == "" && !dated && g.Provider != q.ProviderID:
			continue // only by-provider listings are restricted to the provider
		case dated && (lo != "" && g.date() < lo || hi != "" && g.date() > hi):
			continue
		}
		keep = append(keep, g)
	}
	sort.Slice(keep, func(i, j int) bool { return keep[i].entry() < keep[j].entry() })
	if q.SortDir == "desc" {
		slices.Reverse(keep)
	}
	ids := []string{}
	for _, g := range keep {
		ids = append(ids, g.ID)
	}
	return ids
}

// walkPages pages through a listing with its own ids as markers.
func walkPages(t *testing.T, cps *bank.Checkpoints, q bank.ListQuery, pageSize int) []string {
	t.Helper()
	all := []string{}
	q.Limit = pageSize
	for {
		page, err := cps.ListIDs(context.Background(), q)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page), pageSize)
		all = append(all, page...)
		if len(page) < pageSize {
			return all
		}
		q.Marker = page[len(page)-1]
	}
}

func TestListingSemantics(t *testing.T) {
	gen := generateBank(2500)
	dir := scratchDir(t)
	writePythonBank(t, dir, gen)
	clock := banktest.NewClock(time.Date(2020, 5, 20, 12, 0, 0, 0, time.UTC))
	cps := bank.NewCheckpoints(bank.New(openFS(t, dir)), bank.WithClock(clock.Now))
	today := "2020-05-20"

	queries := map[string]bank.ListQuery{
		"own project":                          {ProjectID: "p0"},
		"all tenants":                          {ProjectID: "admin", AllTenants: true},
		"all tenants narrowed to a project":    {ProjectID: "admin", AllTenants: true, FilterProjectID: "p2"},
		"project filter ignored without all":   {ProjectID: "p1", FilterProjectID: "p2"},
		"other provider":                       {ProviderID: "prov-b", ProjectID: "p0"},
		"plan, own project":                    {ProjectID: "p3", PlanID: "plan-2"},
		"plan, all tenants":                    {ProjectID: "admin", AllTenants: true, PlanID: "plan-5"},
		"start date runs to today":             {ProjectID: "p0", StartDate: "2020-05-10"},
		"date range, all tenants":              {ProjectID: "admin", AllTenants: true, StartDate: "2020-05-03", EndDate: "2020-05-12"},
		"end date alone is honoured":           {ProjectID: "p4", EndDate: "2020-05-05"},
		"plan and date range, all tenants":     {ProjectID: "admin", AllTenants: true, PlanID: "plan-1", StartDate: "2020-05-10", EndDate: "2020-5-15"},
		"single day":                           {ProjectID: "p2", StartDate: "2020-05-07", EndDate: "2020-05-07"},
		"empty range":                          {ProjectID: "p2", StartDate: "2020-05-08", EndDate: "2020-05-07"},
		"unknown project":                      {ProjectID: "nobody"},
		"no project in context":                {ProjectID: ""},
		"plan of another project":              {ProjectID: "nobody", PlanID: "plan-1"},
		"start date after everything":          {ProjectID: "p0", StartDate: "2021-01-01"},
		"all tenants and a date, no end given": {ProjectID: "admin", AllTenants: true, StartDate: "2020-05-18"},
	}
	for name, q := range queries {
		if q.ProviderID == "" {
			q.ProviderID = "prov-a"
		}
		for _, dir := range []string{"asc", "desc"} {
			q := q
			q.SortDir = dir
			want := modelList(gen, q, today)
			t.Run(name+"/"+dir, func(t *testing.T) {
				got, err := cps.ListIDs(context.Background(), q)
				require.NoError(t, err)
				assert.Equal(t, want, got, "unlimited listing")
				for _, size := range []int{37, 400} {
					assert.Equal(t, want, walkPages(t, cps, q, size), "pages of %d", size)
				}
			})
		}
	}
	// The queries cover real work, not just empty results.
	q := bank.ListQuery{ProviderID: "prov-a", ProjectID: "admin", AllTenants: true, StartDate: "2020-05-03", EndDate: "2020-05-12"}
	assert.Greater(t, len(modelList(gen, q, today)), 500)
}

func TestListingDetails(t *testing.T) {
	gen := generateBank(300)
	dir := scratchDir(t)
	writePythonBank(t, dir, gen)
	cps := bank.NewCheckpoints(bank.New(openFS(t, dir)))
	ctx := context.Background()
	base := bank.ListQuery{ProviderID: "prov-a", ProjectID: "p1"}

	t.Run("default direction is ascending", func(t *testing.T) {
		got, err := cps.ListIDs(ctx, base)
		require.NoError(t, err)
		assert.Equal(t, modelList(gen, base, ""), got)
	})
	t.Run("a deleted checkpoint still works as a marker", func(t *testing.T) {
		var deleted genCheckpoint
		for _, g := range gen {
			if g.Deleted && g.Provider == "prov-a" && g.Project == "p1" {
				deleted = g
				break
			}
		}
		require.NotEmpty(t, deleted.ID)
		q := base
		q.Marker = deleted.ID
		got, err := cps.ListIDs(ctx, q)
		require.NoError(t, err)
		var want []string
		for _, id := range modelList(gen, base, "") {
			for _, g := range gen {
				if g.ID == id && g.entry() > deleted.entry() {
					want = append(want, id)
				}
			}
		}
		assert.Equal(t, want, got)
	})
	t.Run("unknown marker", func(t *testing.T) {
		q := base
		q.Marker = "00000000-0000-4000-8000-000000000000"
		_, err := cps.ListIDs(ctx, q)
		var oe *bank.ObjectError
		require.ErrorAs(t, err, &oe, "BankGetObjectFailed, as in Python")
		assert.Equal(t, bank.OpGet, oe.Op)
		assert.Equal(t, "/checkpoints/00000000-0000-4000-8000-000000000000/index.json", oe.Key)
	})
	t.Run("bad dates", func(t *testing.T) {
		for _, d := range []string{"2020/05/04", "20-05-04", "2020-13-01", "2020-02-30", "yesterday", "2020-05-04T00:00"} {
			q := base
			q.StartDate = d
			_, err := cps.ListIDs(ctx, q)
			var de *bank.DateError
			require.ErrorAs(t, err, &de, d)
			assert.Equal(t, fmt.Sprintf("time data '%s' does not match format '%%Y-%%m-%%d'", d), de.Message())
		}
	})
	t.Run("bad ids", func(t *testing.T) {
		for _, q := range []bank.ListQuery{
			{ProviderID: "prov-a", ProjectID: "p1", PlanID: "../x"},
			{ProviderID: "prov/a", ProjectID: "p1"},
			{ProviderID: "prov-a", ProjectID: "p 1"},
		} {
			_, err := cps.ListIDs(ctx, q)
			var ik *bank.InvalidKeyError
			assert.ErrorAs(t, err, &ik, "%+v", q)
		}
	})
	t.Run("dangling index entry fails the listing, as in Python", func(t *testing.T) {
		writeFile(t, filepath.Join(dir, "karbor", "indices", "by-provider", "prov-a", "p1", "1588291100@gone"), "gone")
		q := base
		_, err := cps.List(ctx, q)
		assert.ErrorIs(t, err, bank.ErrCheckpointNotFound)
		q.Limit = 1
		q.SortDir = "desc"
		page, err := cps.List(ctx, q)
		require.NoError(t, err, "pages not reaching it are fine")
		assert.Len(t, page, 1)
	})
	t.Run("stray files are not entries", func(t *testing.T) {
		writeFile(t, filepath.Join(dir, "karbor", "indices", "by-provider", "prov-a", "p2", "README"), "x")
		q := bank.ListQuery{ProviderID: "prov-a", ProjectID: "p2"}
		got, err := cps.ListIDs(ctx, q)
		require.NoError(t, err)
		assert.Equal(t, modelList(gen, q, ""), got)
	})
}
