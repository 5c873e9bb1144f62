package bank_test

import (
	"context"
	"encoding/json"
	"fmt"
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

// pythonOwner is the owner id the Python service recorded in the sample.
const pythonOwner = "9c4014a6-0890-420c-9748-3c928b5f9123"

func openSample(t *testing.T) (*bank.Checkpoints, string, banktest.Sample) {
	t.Helper()
	path, sample := banktest.LoadSample(t, "testdata")
	require.Len(t, sample.Checkpoints, 44)
	return bank.NewCheckpoints(bank.New(openFS(t, path))), path, sample
}

// sampleOrder sorts sample checkpoints as a listing should: by time, then id.
func sampleOrder(cps []banktest.SampleCheckpoint, desc bool) []string {
	cps = slices.Clone(cps)
	sort.Slice(cps, func(i, j int) bool {
		a, b := fmt.Sprintf("%d@%s", cps[i].Timestamp, cps[i].ID), fmt.Sprintf("%d@%s", cps[j].Timestamp, cps[j].ID)
		if desc {
			return a > b
		}
		return a < b
	})
	ids := []string{}
	for _, c := range cps {
		ids = append(ids, c.ID)
	}
	return ids
}

func listed(sample banktest.Sample, keep func(banktest.SampleCheckpoint) bool) []banktest.SampleCheckpoint {
	var out []banktest.SampleCheckpoint
	for _, c := range sample.Checkpoints {
		if c.Status != bank.StatusDeleted && keep(c) {
			out = append(out, c)
		}
	}
	return out
}

// TestPythonSampleReadsBack reads every checkpoint the Python service
// wrote, in every status, and rewrites each byte for byte.
func TestPythonSampleReadsBack(t *testing.T) {
	cps, path, sample := openSample(t)
	ctx := context.Background()
	for _, want := range sample.Checkpoints {
		t.Run(want.Status+"/"+want.ID, func(t *testing.T) {
			cp, err := cps.Get(ctx, want.ID)
			require.NoError(t, err)
			assert.Equal(t, want.Status, cp.Status)
			assert.Equal(t, want.ProjectID, cp.ProjectID)
			assert.Equal(t, want.PlanID, cp.Plan.ID)
			assert.Equal(t, want.CreatedAt, cp.CreatedAt)
			assert.Equal(t, want.Timestamp, cp.Timestamp)
			assert.Equal(t, banktest.SampleProviderID, cp.ProviderID)
			assert.Equal(t, pythonOwner, cp.OwnerID)
			if want.Status != bank.StatusProtecting {
				// Python sets the graph right after creating; only a
				// checkpoint stuck in protecting may lack it.
				assert.NotNil(t, cp.ResourceGraph)
			}

			d, err := json.Marshal(cp.Dict())
			require.NoError(t, err)
			var dict map[string]any
			require.NoError(t, json.Unmarshal(d, &dict))
			assert.Len(t, dict, 7)
			assert.Equal(t, want.ID, dict["id"])

			raw, err := os.ReadFile(filepath.Join(path, "karbor", "checkpoints", want.ID, "index.json"))
			require.NoError(t, err)
			enc, err := cp.EncodeIndex()
			require.NoError(t, err)
			assert.Equal(t, string(raw), string(enc))
		})
	}
}

// TestPythonSampleListings lists the sample every way the API can.
func TestPythonSampleListings(t *testing.T) {
	cps, _, sample := openSample(t)
	ctx := context.Background()
	projects := map[string]bool{}
	plans := map[string]bool{}
	for _, c := range sample.Checkpoints {
		projects[c.ProjectID] = true
		plans[c.PlanID] = true
	}
	for _, desc := range []bool{false, true} {
		dir := map[bool]string{false: "asc", true: "desc"}[desc]
		t.Run(dir, func(t *testing.T) {
			for p := range projects {
				q := bank.ListQuery{ProviderID: banktest.SampleProviderID, ProjectID: p, SortDir: dir}
				want := sampleOrder(listed(sample, func(c banktest.SampleCheckpoint) bool { return c.ProjectID == p }), desc)
				got, err := cps.ListIDs(ctx, q)
				require.NoError(t, err)
				assert.Equal(t, want, got, "project %s", p)

				q.StartDate, q.EndDate = "2026-11-22", "2026-11-22"
				got, err = cps.ListIDs(ctx, q)
				require.NoError(t, err)
				assert.Equal(t, want, got, "project %s by date", p)
			}
			for plan := range plans {
				want := sampleOrder(listed(sample, func(c banktest.SampleCheckpoint) bool { return c.PlanID == plan }), desc)
				got, err := cps.ListIDs(ctx, bank.ListQuery{ProviderID: banktest.SampleProviderID, ProjectID: "admin", AllTenants: true, PlanID: plan, SortDir: dir})
				require.NoError(t, err)
				assert.Equal(t, want, got, "plan %s", plan)
			}
			all := sampleOrder(listed(sample, func(banktest.SampleCheckpoint) bool { return true }), desc)
			got, err := cps.ListIDs(ctx, bank.ListQuery{ProviderID: banktest.SampleProviderID, ProjectID: "admin", AllTenants: true, SortDir: dir})
			require.NoError(t, err)
			assert.Equal(t, all, got)
			assert.Len(t, got, 40, "44 checkpoints, 4 deleted")

			page, err := cps.List(ctx, bank.ListQuery{ProviderID: banktest.SampleProviderID, ProjectID: "admin", AllTenants: true, SortDir: dir, Limit: 5, Marker: all[10]})
			require.NoError(t, err)
			var ids []string
			for _, cp := range page {
				ids = append(ids, cp.ID)
			}
			assert.Equal(t, all[11:16], ids)
		})
	}
}

// TestPythonSampleOperations continues the Python service's work on its
// bank: the state machine applies to what it wrote, and its unfinished
// checkpoints are orphans (it held no lease).
func TestPythonSampleOperations(t *testing.T) {
	cps, _, sample := openSample(t)
	ctx := context.Background()
	byStatus := map[string][]string{}
	for _, c := range sample.Checkpoints {
		byStatus[c.Status] = append(byStatus[c.Status], c.ID)
	}

	_, err := cps.ResetState(ctx, byStatus["bogus-state"][0], bank.StatusAvailable)
	var te *bank.TransitionError
	require.ErrorAs(t, err, &te, "Python's rule: an arbitrary status cannot be reset")

	cp, err := cps.BeginDelete(ctx, byStatus[bank.StatusAvailable][0])
	require.NoError(t, err)
	assert.Equal(t, cps.Bank().OwnerID(), cp.OwnerID)
	_, err = cps.Delete(ctx, cp.ID)
	require.NoError(t, err)

	// The Python service held no lease: without evidence its unfinished
	// checkpoints are nobody's to change.
	want := append(slices.Clone(byStatus[bank.StatusProtecting]), byStatus[bank.StatusWaitCopying]...)
	unfinished, err := cps.Unfinished(ctx)
	require.NoError(t, err)
	var ids []string
	for _, u := range unfinished {
		ids = append(ids, u.ID)
		assert.Equal(t, bank.OwnerUnknown, u.Owner.Liveness, u.ID)
	}
	assert.ElementsMatch(t, want, ids)
	_, err = cps.ResetState(ctx, byStatus[bank.StatusWaitCopying][0], bank.StatusError)
	var no *bank.NotOwnerError
	require.ErrorAs(t, err, &no, "an owner that may be alive keeps its wait_copying checkpoint")
	assert.Equal(t, bank.OwnerUnknown, no.Owner.Liveness)

	// Once the evidence says the Python instances are dead, they are.
	dead := bank.NewCheckpoints(cps.Bank(), bank.WithEvidence(evidence{bank.Verdict{Liveness: bank.OwnerDead, Reason: "no Python host is up"}}))
	unfinished, err = dead.Unfinished(ctx)
	require.NoError(t, err)
	require.Len(t, unfinished, len(want))
	for _, u := range unfinished {
		assert.Equal(t, bank.OwnerDead, u.Owner.Liveness, u.ID)
		assert.Contains(t, u.Owner.Reason, "no Python host is up")
	}
	_, err = dead.ResetState(ctx, byStatus[bank.StatusWaitCopying][0], bank.StatusError)
	require.NoError(t, err, "a dead owner's wait_copying checkpoint can be reset")
}

// TestWritesMatchPythonBank replays the sample's checkpoints through this
// service (same ids, owner, clock and plans) into an empty bank: the result
// is the Python bank, file for file and byte for byte.
func TestWritesMatchPythonBank(t *testing.T) {
	pyPath, sample := banktest.LoadSample(t, "testdata")
	python := bank.NewCheckpoints(bank.New(openFS(t, pyPath)))
	ctx := context.Background()

	dir := t.TempDir()
	clock := banktest.NewClock(time.Unix(0, 0))
	var ids []string
	for _, c := range sample.Checkpoints {
		ids = append(ids, c.ID)
	}
	ours := bank.NewCheckpoints(bank.New(openFS(t, dir, withOwner(pythonOwner))),
		bank.WithClock(clock.Now), bank.WithIDGenerator(fixedIDs(ids...)))

	for _, c := range sample.Checkpoints {
		orig, err := python.Get(ctx, c.ID)
		require.NoError(t, err)
		clock.Set(time.Unix(orig.Timestamp, 0))
		cp, err := ours.Create(ctx, bank.NewCheckpoint{Plan: orig.Plan, ProjectID: orig.ProjectID, Status: orig.Status, ExtraInfo: orig.ExtraInfo})
		require.NoError(t, err)
		require.Equal(t, c.ID, cp.ID)
		if orig.ResourceGraph != nil {
			_, err = ours.SetResourceGraph(ctx, cp.ID, *orig.ResourceGraph)
			require.NoError(t, err)
		}
		if orig.Status == bank.StatusDeleted {
			_, err = ours.Delete(ctx, cp.ID)
			require.NoError(t, err)
		}
	}
	assert.Equal(t, containerFiles(t, filepath.Join(pyPath, "karbor")), containerFiles(t, filepath.Join(dir, "karbor")))
}

// TestSpecFormatBank reads a bank built by hand in karbor's formats
// (docs/karbor-behaviour.md#indexjson, #bank-key-layout), including plugin
// resource data.
func TestSpecFormatBank(t *testing.T) {
	dir := t.TempDir()
	container := filepath.Join(dir, "karbor")
	planID := "35235c0e-6f1a-4b2c-8d3e-9f0a1b2c3d4e"
	writeFile(t, filepath.Join(container, "checkpoints", specID, "index.json"), specIndex)
	for _, key := range []string{
		fmt.Sprintf("/indices/by-provider/%s/%s/%d@%s", specProvider, specProject, 1588601234, specID),
		fmt.Sprintf("/indices/by-date/%s/%s/%d@%s", "2020-05-04", specProject, 1588601234, specID),
		fmt.Sprintf("/indices/by-plan/%s/%s/%s/%d@%s", planID, specProject, "2020-05-04", 1588601234, specID),
	} {
		writeFile(t, filepath.Join(container, filepath.FromSlash(key)), specID)
	}
	rd := filepath.Join(container, "checkpoints", specID, "resource-data", "cb4ef2ff-ceef-4fd3-8d8b-5e0c1f9d4a21")
	writeFile(t, filepath.Join(rd, "status"), "available")
	writeFile(t, filepath.Join(rd, "metadata"), `{"server_metadata": {"name": "App server"}, "attached_volumes": []}`)

	cps := bank.NewCheckpoints(bank.New(openFS(t, dir)))
	ctx := context.Background()
	cp, err := cps.Get(ctx, specID)
	require.NoError(t, err)
	assert.Equal(t, bank.StatusAvailable, cp.Status)
	for _, q := range []bank.ListQuery{
		{ProviderID: specProvider, ProjectID: specProject},
		{ProviderID: specProvider, ProjectID: specProject, PlanID: planID},
		{ProviderID: specProvider, ProjectID: specProject, StartDate: "2020-05-04", EndDate: "2020-05-04"},
		{ProviderID: specProvider, ProjectID: "admin", AllTenants: true, StartDate: "2020-5-4"},
	} {
		ids, err := cps.ListIDs(ctx, q)
		require.NoError(t, err)
		assert.Equal(t, []string{specID}, ids, "%+v", q)
	}
	rs, err := cps.ResourceSection(specID, "cb4ef2ff-ceef-4fd3-8d8b-5e0c1f9d4a21", false)
	require.NoError(t, err)
	status, err := rs.GetString(ctx, "status")
	require.NoError(t, err)
	assert.Equal(t, "available", status)
	var meta map[string]any
	require.NoError(t, rs.GetJSON(ctx, "metadata", &meta))
	assert.Equal(t, map[string]any{"name": "App server"}, meta["server_metadata"])
}
