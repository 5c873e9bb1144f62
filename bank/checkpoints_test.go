package bank_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/internal/banktest"
)

const (
	specProvider = "cf56bd3e-97a7-4078-b6d5-f36246333fd9"
	specProject  = "e486a2f49695423ca9c47e589b948108"
	specOwner    = "4f0e3c2b-1a09-4e8d-b7c6-5d4e3f2a1b0c"
	specID       = "8d2c6f7a-5b1e-4f7c-9a43-0e5b1d2c3f4a"
	specGraph    = `[{"0x0": ["OS::Cinder::Volume", "25331a3e-4c44-4d9e-8b5f-2a1c0d9e8f7b", "System volume", {"availability_zone": "nova"}], "0x1": ["OS::Nova::Server", "cb4ef2ff-ceef-4fd3-8d8b-5e0c1f9d4a21", "App server", null]}, [["0x1", ["0x0"]]]]`
)

// specCreated is 2020-05-04 14:07:14 UTC, the timestamp of the index.json
// example in docs/karbor-behaviour.md#indexjson.
var specCreated = time.Unix(1588601234, 0)

func specPlan() bank.NewCheckpoint {
	return bank.NewCheckpoint{
		Plan: bank.Plan{
			ID: "35235c0e-6f1a-4b2c-8d3e-9f0a1b2c3d4e", Name: "My app", ProviderID: specProvider,
			// As the Plan primitive arrives over RPC (compact here; written
			// in Python's format).
			Resources: json.RawMessage(`[{"id":"cb4ef2ff-ceef-4fd3-8d8b-5e0c1f9d4a21","type":"OS::Nova::Server","name":"App server","extra_info":null}]`),
		},
		ProjectID: specProject,
		ExtraInfo: json.RawMessage(`"{\"created_by\": \"manual\"}"`),
	}
}

// specBank is a bank whose owner, clock and ids reproduce that example.
func specBank(t *testing.T) (*bank.Checkpoints, string, *banktest.Clock) {
	t.Helper()
	dir := t.TempDir()
	clock := banktest.NewClock(specCreated)
	b := bank.New(openFS(t, dir, withOwner(specOwner), withClock(clock)))
	return bank.NewCheckpoints(b, bank.WithClock(clock.Now), bank.WithIDGenerator(fixedIDs(specID))), dir, clock
}

// containerFiles maps every file under the container to its content.
func containerFiles(t *testing.T, container string) map[string]string {
	t.Helper()
	files := map[string]string{}
	require.NoError(t, filepath.WalkDir(container, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(container, path)
		files["/"+filepath.ToSlash(rel)] = string(data)
		return nil
	}))
	return files
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	assert.Equal(t, string(want), string(got), "golden %s", name)
}

// TestCreateWritesPythonLayout checks the exact keys and index.json text
// a protect writes as the Python service does it (create, set the graph,
// flow succeeds): it ends with the example of
// docs/karbor-behaviour.md#indexjson byte for byte.
func TestCreateWritesPythonLayout(t *testing.T) {
	cps, dir, _ := specBank(t)
	ctx := context.Background()

	cp, err := cps.Create(ctx, specPlan())
	require.NoError(t, err)
	assert.Equal(t, specID, cp.ID)
	assert.Equal(t, bank.StatusProtecting, cp.Status)
	assert.Equal(t, specOwner, cp.OwnerID)

	files := containerFiles(t, filepath.Join(dir, "karbor"))
	keys := slices.Sorted(maps.Keys(files))
	assert.Equal(t, []string{
		"/checkpoints/8d2c6f7a-5b1e-4f7c-9a43-0e5b1d2c3f4a/index.json",
		"/indices/by-date/2020-05-04/e486a2f49695423ca9c47e589b948108/1588601234@8d2c6f7a-5b1e-4f7c-9a43-0e5b1d2c3f4a",
		"/indices/by-plan/35235c0e-6f1a-4b2c-8d3e-9f0a1b2c3d4e/e486a2f49695423ca9c47e589b948108/2020-05-04/1588601234@8d2c6f7a-5b1e-4f7c-9a43-0e5b1d2c3f4a",
		"/indices/by-provider/cf56bd3e-97a7-4078-b6d5-f36246333fd9/e486a2f49695423ca9c47e589b948108/1588601234@8d2c6f7a-5b1e-4f7c-9a43-0e5b1d2c3f4a",
	}, keys)
	for _, k := range keys[1:] {
		assert.Equal(t, specID, files[k], "index entries hold the id, verbatim")
	}
	index := files[keys[0]]
	golden(t, "index-created.json", []byte(index))
	// Exactly the Python fields, in Python's order, no resource_graph yet.
	assert.True(t, strings.HasPrefix(index, `{"version": "0.9", "id": "8d2c6f7a-5b1e-4f7c-9a43-0e5b1d2c3f4a", "status": "protecting", "owner_id": "4f0e3c2b-1a09-4e8d-b7c6-5d4e3f2a1b0c", "provider_id": "cf56bd3e-97a7-4078-b6d5-f36246333fd9", "project_id": "e486a2f49695423ca9c47e589b948108", "protection_plan": {"id": `), index)
	assert.True(t, strings.HasSuffix(index, `"extra_info": "{\"created_by\": \"manual\"}", "created_at": "2020-05-04", "timestamp": 1588601234}`), index)

	_, err = cps.SetResourceGraph(ctx, specID, specGraph)
	require.NoError(t, err)
	_, err = cps.SetStatus(ctx, specID, bank.StatusAvailable)
	require.NoError(t, err)
	after := containerFiles(t, filepath.Join(dir, "karbor"))[keys[0]]
	assert.Equal(t, specIndex, after, "the documented example, byte for byte")
	golden(t, "index-protected.json", []byte(after))
}

func TestCreateRejectsBadInput(t *testing.T) {
	cps, _, _ := specBank(t)
	ctx := context.Background()
	tests := []struct {
		name string
		mod  func(*bank.NewCheckpoint)
	}{
		{"no project", func(n *bank.NewCheckpoint) { n.ProjectID = "" }},
		{"project with a slash", func(n *bank.NewCheckpoint) { n.ProjectID = "a/b" }},
		{"plan id dot-dot", func(n *bank.NewCheckpoint) { n.Plan.ID = ".." }},
		{"provider with space", func(n *bank.NewCheckpoint) { n.Plan.ProviderID = "a b" }},
		{"resources not JSON", func(n *bank.NewCheckpoint) { n.Plan.Resources = json.RawMessage(`[`) }},
		{"extra_info not JSON", func(n *bank.NewCheckpoint) { n.ExtraInfo = json.RawMessage(`{x}`) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := specPlan()
			tc.mod(&n)
			_, err := cps.Create(ctx, n)
			assert.Error(t, err)
		})
	}
	ids, err := cps.ListIDs(ctx, bank.ListQuery{ProviderID: specProvider, ProjectID: specProject})
	require.NoError(t, err)
	assert.Empty(t, ids, "nothing was written")
}

func TestGetErrors(t *testing.T) {
	cps, dir, _ := specBank(t)
	ctx := context.Background()

	_, err := cps.Get(ctx, "0b5c5d6e-0000-4000-8000-000000000000")
	var nf *bank.CheckpointNotFoundError
	require.ErrorAs(t, err, &nf)
	assert.Equal(t, "0b5c5d6e-0000-4000-8000-000000000000", nf.CheckpointID)
	assert.ErrorIs(t, err, bank.ErrCheckpointNotFound)

	_, err = cps.Get(ctx, "bad id!")
	var ik *bank.InvalidKeyError
	require.ErrorAs(t, err, &ik)
	assert.Equal(t, "Invalid section. Must begin and end with a slash, and contain valid characters", ik.Reason)

	for _, id := range []string{"", "..", ".", "a/b"} {
		_, err = cps.Get(ctx, id)
		assert.ErrorIs(t, err, bank.ErrCheckpointNotFound, "%q", id)
	}

	writeFile(t, filepath.Join(dir, "karbor", "checkpoints", "old", "index.json"), `{"version": "0.8", "id": "old"}`)
	_, err = cps.Get(ctx, "old")
	var uv *bank.UnsupportedVersionError
	require.ErrorAs(t, err, &uv)
	assert.Equal(t, bank.UnsupportedVersionMessage, "Checkpoint was created in an unsupported version")
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

func TestStatusMachine(t *testing.T) {
	type step func(cps *bank.Checkpoints, id string) error
	setStatus := func(s string) step {
		return func(cps *bank.Checkpoints, id string) error {
			_, err := cps.SetStatus(context.Background(), id, s)
			return err
		}
	}
	reset := func(s string) step {
		return func(cps *bank.Checkpoints, id string) error {
			_, err := cps.ResetState(context.Background(), id, s)
			return err
		}
	}
	beginDelete := func(cps *bank.Checkpoints, id string) error {
		_, err := cps.BeginDelete(context.Background(), id)
		return err
	}
	finishDelete := func(cps *bank.Checkpoints, id string) error {
		_, err := cps.Delete(context.Background(), id)
		return err
	}
	tests := []struct {
		name     string
		initial  string
		step     step
		want     string          // status after, when allowed
		wantKind bank.Transition // refused with this kind
	}{
		{"protect ok", bank.StatusProtecting, setStatus(bank.StatusAvailable), bank.StatusAvailable, ""},
		{"protect failed", bank.StatusProtecting, setStatus(bank.StatusError), bank.StatusError, ""},
		{"protecting cannot be deleted", bank.StatusProtecting, setStatus(bank.StatusDeleted), "", bank.TransitionFlow},
		{"copy starts", bank.StatusWaitCopying, setStatus(bank.StatusCopying), bank.StatusCopying, ""},
		{"copy done", bank.StatusCopying, setStatus(bank.StatusAvailable), bank.StatusAvailable, ""},
		{"available is final for flows", bank.StatusAvailable, setStatus(bank.StatusProtecting), "", bank.TransitionFlow},
		{"delete available", bank.StatusAvailable, beginDelete, bank.StatusDeleting, ""},
		{"delete error", bank.StatusError, beginDelete, bank.StatusDeleting, ""},
		{"delete protecting", bank.StatusProtecting, beginDelete, "", bank.TransitionDelete},
		{"delete deleting", bank.StatusDeleting, beginDelete, "", bank.TransitionDelete},
		{"retry a failed delete", bank.StatusErrorDeleting, beginDelete, bank.StatusDeleting, ""},
		{"delete deleted", bank.StatusDeleted, beginDelete, "", bank.TransitionDelete},
		{"recover a dead delete", bank.StatusDeleting, setStatus(bank.StatusError), bank.StatusError, ""},
		{"delete flow failed", bank.StatusDeleting, setStatus(bank.StatusErrorDeleting), bank.StatusErrorDeleting, ""},
		{"delete finished", bank.StatusDeleting, finishDelete, bank.StatusDeleted, ""},
		{"finish delete of available", bank.StatusAvailable, finishDelete, "", bank.TransitionFlow},
		{"reset available", bank.StatusAvailable, reset(bank.StatusError), bank.StatusError, ""},
		{"reset copying", bank.StatusCopying, reset(bank.StatusAvailable), bank.StatusAvailable, ""},
		{"reset wait_copying", bank.StatusWaitCopying, reset(bank.StatusError), bank.StatusError, ""},
		{"reset finished", bank.StatusCopyFinished, reset(bank.StatusAvailable), bank.StatusAvailable, ""},
		{"reset to any string", bank.StatusError, reset("bogus-state"), "bogus-state", ""},
		{"reset protecting", bank.StatusProtecting, reset(bank.StatusAvailable), "", bank.TransitionReset},
		{"reset deleting", bank.StatusDeleting, reset(bank.StatusAvailable), "", bank.TransitionReset},
		{"reset error-deleting", bank.StatusErrorDeleting, reset(bank.StatusAvailable), "", bank.TransitionReset},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cps, _, _ := specBank(t)
			n := specPlan()
			n.Status = tc.initial
			cp, err := cps.Create(context.Background(), n)
			require.NoError(t, err)
			err = tc.step(cps, cp.ID)
			got, gerr := cps.Get(context.Background(), cp.ID)
			require.NoError(t, gerr)
			if tc.wantKind != "" {
				var te *bank.TransitionError
				require.ErrorAs(t, err, &te)
				assert.Equal(t, tc.wantKind, te.Kind)
				assert.Equal(t, tc.initial, te.From)
				assert.Equal(t, tc.initial, got.Status, "unchanged")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.Status)
		})
	}
}

// TestDeleteKeepsIndexJSON: a deletion keeps index.json (status deleted)
// and removes the index keys (docs/karbor-behaviour.md#deletion-in-the-bank),
// and a deletion cut short between writing index.json and removing the
// index keys can be finished.
func TestDeleteKeepsIndexJSON(t *testing.T) {
	dir := t.TempDir()
	clock := banktest.NewClock(specCreated)
	wrapped := &banktest.Plugin{Plugin: openFS(t, dir, withClock(clock))}
	cps := bank.NewCheckpoints(bank.New(wrapped), bank.WithClock(clock.Now))
	ctx := context.Background()
	cp, err := cps.Create(ctx, specPlan())
	require.NoError(t, err)
	rs, err := cps.ResourceSection(cp.ID, "cb4ef2ff-ceef-4fd3-8d8b-5e0c1f9d4a21", true)
	require.NoError(t, err)
	require.NoError(t, rs.PutString(ctx, "status", "deleted"))
	_, err = cps.SetStatus(ctx, cp.ID, bank.StatusAvailable)
	require.NoError(t, err)
	_, err = cps.BeginDelete(ctx, cp.ID)
	require.NoError(t, err)

	wrapped.FailDeletes.Store(true)
	_, err = cps.Delete(ctx, cp.ID)
	require.ErrorIs(t, err, banktest.ErrCrash)
	got, err := cps.Get(ctx, cp.ID)
	require.NoError(t, err, "still readable")
	assert.Equal(t, bank.StatusDeleted, got.Status)

	wrapped.FailDeletes.Store(false)
	_, err = cps.Delete(ctx, cp.ID)
	require.NoError(t, err, "finishing the deletion")

	keys := slices.Sorted(maps.Keys(containerFiles(t, filepath.Join(dir, "karbor"))))
	assert.Equal(t, []string{
		"/checkpoints/" + cp.ID + "/index.json",
		"/checkpoints/" + cp.ID + "/resource-data/cb4ef2ff-ceef-4fd3-8d8b-5e0c1f9d4a21/status",
	}, keys, "index keys gone; index.json and resource data stay")
	ids, err := cps.ListIDs(ctx, bank.ListQuery{ProviderID: specProvider, ProjectID: specProject})
	require.NoError(t, err)
	assert.Empty(t, ids)
}

// TestCrashBetweenCreateWrites: index.json is written first, so a crash
// before the index keys (after which nothing, not even Create's undo, gets
// through) leaves a readable checkpoint that listings do not show and
// recovery finds as an orphan once its owner is gone.
func TestCrashBetweenCreateWrites(t *testing.T) {
	dir := t.TempDir()
	clock := banktest.NewClock(specCreated)
	wrapped := &banktest.Plugin{Plugin: openFS(t, dir, withClock(clock))}
	crashing := bank.NewCheckpoints(bank.New(wrapped), bank.WithClock(clock.Now), bank.WithIDGenerator(fixedIDs(specID)))
	wrapped.FailPutsAfter.Store(2) // index.json and by-provider, then the crash
	wrapped.FailDeletes.Store(true)
	ctx := context.Background()
	_, err := crashing.Create(ctx, specPlan())
	require.ErrorIs(t, err, banktest.ErrCrash)

	clock.Advance(bank.DefaultLeaseExpireWindow + time.Second)
	survivor := bank.NewCheckpoints(bank.New(openFS(t, dir, withClock(clock))), bank.WithClock(clock.Now))
	cp, err := survivor.Get(ctx, specID)
	require.NoError(t, err)
	assert.Equal(t, bank.StatusProtecting, cp.Status)
	for _, q := range []bank.ListQuery{
		{ProviderID: specProvider, ProjectID: specProject},
		{ProviderID: specProvider, ProjectID: specProject, StartDate: "2020-05-01"},
		{ProviderID: specProvider, ProjectID: specProject, PlanID: cp.Plan.ID},
	} {
		_, err := survivor.List(ctx, q)
		require.NoError(t, err, "listing works after the crash: %+v", q)
	}
	unfinished, err := survivor.Unfinished(ctx)
	require.NoError(t, err)
	require.Len(t, unfinished, 1)
	assert.Equal(t, specID, unfinished[0].ID)
	assert.Equal(t, bank.OwnerDead, unfinished[0].Owner.Liveness, unfinished[0].Owner.Reason)
}

func TestResourceSection(t *testing.T) {
	cps, dir, _ := specBank(t)
	ctx := context.Background()
	cp, err := cps.Create(ctx, specPlan())
	require.NoError(t, err)
	rs, err := cps.ResourceSection(cp.ID, "vol-1", true)
	require.NoError(t, err)
	require.NoError(t, rs.PutString(ctx, "status", "protecting"))
	require.NoError(t, rs.PutJSON(ctx, "metadata", map[string]string{"backup_id": "b1"}))
	assert.FileExists(t, filepath.Join(dir, "karbor", "checkpoints", cp.ID, "resource-data", "vol-1", "metadata"))

	ro, err := cps.ResourceSection(cp.ID, "vol-1", false)
	require.NoError(t, err)
	var meta map[string]string
	require.NoError(t, ro.GetJSON(ctx, "metadata", &meta))
	assert.Equal(t, map[string]string{"backup_id": "b1"}, meta)
	assert.ErrorIs(t, ro.PutString(ctx, "status", "x"), bank.ErrReadOnly)

	_, err = cps.ResourceSection("bad id!", "r", true)
	assert.Error(t, err)
}

// TestTwoWriters runs two service instances on one bank folder.
func TestTwoWriters(t *testing.T) {
	dir := t.TempDir()
	clock := banktest.NewClock(specCreated)
	ctx := context.Background()
	pa := openFS(t, dir, withClock(clock))
	pb := openFS(t, dir, withClock(clock))
	a := bank.NewCheckpoints(bank.New(pa), bank.WithClock(clock.Now))
	b := bank.NewCheckpoints(bank.New(pb), bank.WithClock(clock.Now))

	t.Run("only the owner changes a checkpoint in progress", func(t *testing.T) {
		cp, err := a.Create(ctx, specPlan())
		require.NoError(t, err)
		_, err = b.SetStatus(ctx, cp.ID, bank.StatusAvailable)
		var no *bank.NotOwnerError
		require.ErrorAs(t, err, &no)
		assert.Equal(t, pa.OwnerID(), no.OwnerID)
		_, err = b.SetResourceGraph(ctx, cp.ID, "[{}, []]")
		require.ErrorAs(t, err, &no)

		_, err = a.SetStatus(ctx, cp.ID, bank.StatusAvailable)
		require.NoError(t, err)

		// Whoever starts the next operation owns the checkpoint.
		got, err := b.BeginDelete(ctx, cp.ID)
		require.NoError(t, err)
		assert.Equal(t, pb.OwnerID(), got.OwnerID)
		_, err = a.Delete(ctx, cp.ID)
		require.ErrorAs(t, err, &no)
		_, err = b.Delete(ctx, cp.ID)
		require.NoError(t, err)
	})

	t.Run("concurrent updates lose nothing", func(t *testing.T) {
		n := specPlan()
		n.Status = bank.StatusAvailable
		n.ExtraInfo = json.RawMessage(`{"n": 0}`)
		cp, err := a.Create(ctx, n)
		require.NoError(t, err)
		_, err = a.SetResourceGraph(ctx, cp.ID, specGraph)
		require.NoError(t, err)

		const perWriter = 40
		increment := func(cp *bank.Checkpoint) error {
			var v struct{ N int }
			if err := json.Unmarshal(cp.ExtraInfo, &v); err != nil {
				return err
			}
			cp.ExtraInfo = json.RawMessage(fmt.Sprintf(`{"n": %d}`, v.N+1))
			return nil
		}
		var wg sync.WaitGroup
		errs := make(chan error, 2*perWriter)
		for _, w := range []*bank.Checkpoints{a, b} {
			wg.Go(func() {
				for range perWriter {
					if _, err := w.Update(ctx, cp.ID, increment); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		got, err := b.Get(ctx, cp.ID)
		require.NoError(t, err)
		assert.JSONEq(t, fmt.Sprintf(`{"n": %d}`, 2*perWriter), string(got.ExtraInfo), "no update lost")
		require.NotNil(t, got.ResourceGraph)
		assert.Equal(t, specGraph, *got.ResourceGraph, "other fields intact")
		assert.Equal(t, pa.OwnerID(), got.OwnerID, "stable checkpoints keep their owner")
	})

	t.Run("a dead owner's checkpoint is found and taken over", func(t *testing.T) {
		cp, err := a.Create(ctx, specPlan())
		require.NoError(t, err)
		unfinished, err := b.Unfinished(ctx)
		require.NoError(t, err)
		require.Len(t, unfinished, 1)
		assert.Equal(t, bank.OwnerAlive, unfinished[0].Owner.Liveness, "a is alive")
		assert.Contains(t, unfinished[0].Owner.Reason, "its lease is valid until")
		mine, err := a.Unfinished(ctx)
		require.NoError(t, err)
		assert.Empty(t, mine, "an instance's own checkpoints are not unfinished business")

		// a stops renewing (hung or dead); b keeps renewing.
		clock.Advance(bank.DefaultLeaseExpireWindow + time.Second)
		require.NoError(t, pb.RenewLease(ctx))

		_, err = a.SetStatus(ctx, cp.ID, bank.StatusAvailable)
		assert.ErrorIs(t, err, bank.ErrLeaseInvalid, "a must not write without a valid lease")
		_, err = a.Create(ctx, specPlan())
		assert.ErrorIs(t, err, bank.ErrLeaseInvalid)

		unfinished, err = b.Unfinished(ctx)
		require.NoError(t, err)
		require.Len(t, unfinished, 1)
		assert.Equal(t, cp.ID, unfinished[0].ID)
		assert.Equal(t, bank.OwnerDead, unfinished[0].Owner.Liveness)
		assert.Contains(t, unfinished[0].Owner.Reason, "its lease expired at")

		got, err := b.SetStatus(ctx, cp.ID, bank.StatusError)
		require.NoError(t, err)
		assert.Equal(t, pb.OwnerID(), got.OwnerID, "the writer took the checkpoint over")

		require.NoError(t, pa.RenewLease(ctx)) // a comes back: the checkpoint is b's now
		_, err = a.SetStatus(ctx, cp.ID, bank.StatusAvailable)
		var te *bank.TransitionError
		assert.ErrorAs(t, err, &te, "error is final for flows")
	})
}

func TestLockHonoursContext(t *testing.T) {
	cps, _, _ := specBank(t)
	ctx := context.Background()
	cp, err := cps.Create(ctx, specPlan())
	require.NoError(t, err)
	inside := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := cps.Update(ctx, cp.ID, func(*bank.Checkpoint) error {
			close(inside)
			<-release
			return nil
		})
		done <- err
	}()
	<-inside
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = cps.SetStatus(cancelled, cp.ID, bank.StatusAvailable)
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)
	close(release)
	require.NoError(t, <-done)
}

func TestCancelledGetIsNotNotFound(t *testing.T) {
	cps, _, _ := specBank(t)
	cp, err := cps.Create(context.Background(), specPlan())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = cps.Get(ctx, cp.ID)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, bank.ErrCheckpointNotFound)
}

// TestListSkipsCheckpointMidDelete: between Delete's index.json write and
// its index-key removals a listing must not show the checkpoint, and a
// limited page is refilled past it.
func TestListSkipsCheckpointMidDelete(t *testing.T) {
	clock := banktest.NewClock(specCreated)
	wrapped := &banktest.Plugin{Plugin: openFS(t, t.TempDir(), withClock(clock))}
	cps := bank.NewCheckpoints(bank.New(wrapped), bank.WithClock(clock.Now))
	ctx := context.Background()
	var ids []string
	for range 3 {
		cp, err := cps.Create(ctx, specPlan())
		require.NoError(t, err)
		_, err = cps.SetStatus(ctx, cp.ID, bank.StatusAvailable)
		require.NoError(t, err)
		ids = append(ids, cp.ID)
		clock.Advance(time.Second)
	}
	_, err := cps.BeginDelete(ctx, ids[1])
	require.NoError(t, err)
	wrapped.FailDeletes.Store(true)
	_, err = cps.Delete(ctx, ids[1])
	require.ErrorIs(t, err, banktest.ErrCrash)
	wrapped.FailDeletes.Store(false)

	q := bank.ListQuery{ProviderID: specProvider, ProjectID: specProject, SortDir: "asc"}
	indexed, err := cps.ListIDs(ctx, q)
	require.NoError(t, err)
	require.Equal(t, ids, indexed, "its index keys are still there")
	for _, limit := range []int{0, 2, 5} {
		q.Limit = limit
		got, err := cps.List(ctx, q)
		require.NoError(t, err)
		var gotIDs []string
		for _, cp := range got {
			gotIDs = append(gotIDs, cp.ID)
		}
		assert.Equal(t, []string{ids[0], ids[2]}, gotIDs, "limit %d", limit)
	}
	q.Limit = 1
	got, err := cps.List(ctx, q)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, ids[0], got[0].ID)
}
