package noop_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	_ "github.com/gokarbor/karbor-protection/bank/fs"
	"github.com/gokarbor/karbor-protection/pkg/db"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/graph"
	"github.com/gokarbor/karbor-protection/providers/noop"
)

func TestNoop(t *testing.T) {
	assert.Contains(t, providers.Plugins(), noop.PluginName)
	p := noop.Plugin{}
	assert.Equal(t, karbor.ResourceTypes(), p.ResourceTypes())
	for _, typ := range p.ResourceTypes() {
		s := p.Schemas(typ)
		for _, schema := range [][]byte{s.Options, s.Restore, s.SavedInfo} {
			assert.Equal(t, "{}", string(schema), typ)
		}
		for _, op := range []providers.Op{providers.OpProtect, providers.OpRestore, providers.OpVerify, providers.OpDelete, providers.OpCopy} {
			h, err := p.Hooks(op, graph.Resource{Type: typ, ID: "x", Name: "x"})
			require.NoError(t, err, "%s %s", op, typ)
			a := &providers.HookArgs{Op: op, Resource: graph.Resource{Type: typ, ID: "x", Name: "x"}}
			ctx := context.Background()
			assert.NoError(t, h.OnPrepareBegin(ctx, a))
			assert.NoError(t, h.OnPrepareFinish(ctx, a))
			assert.NoError(t, h.OnMain(ctx, a), "reporting outside a restore or verification records nothing")
			assert.NoError(t, h.OnComplete(ctx, a))
		}
	}
}

const providerID = "b766f37c-d011-4026-8228-28730d734a3f"

// resources is the graph the tests protect: a project holding a server
// with its volume, and a lone volume; every node is restored and verified.
func resources() graph.Graph {
	node := func(typ, id string, children ...*graph.Node) *graph.Node {
		return &graph.Node{Resource: graph.Resource{Type: typ, ID: id, Name: id + "-name"}, Children: children}
	}
	vol := node(karbor.VolumeResourceType, "6918fc8a-7ee8-4164-b48b-ad47bd058dc3")
	srv := node(karbor.ServerResourceType, "f16d36d0-3266-41c0-a75c-672c7d48595a", vol)
	return graph.Graph{
		node(karbor.ProjectResourceType, "f0e1d2c3-b4a5-4678-9abc-def012345678", srv),
		node(karbor.VolumeResourceType, "0c2d1c8e-58c5-4b1b-9d4e-2b0e8f6b1a11"),
	}
}

// keys are the "<type>#<id>" of every resource of resources().
func keys() []string {
	var out []string
	for _, n := range resources().Nodes() {
		out = append(out, n.Resource.Type+"#"+n.Resource.ID)
	}
	slices.Sort(out)
	return out
}

type fixedGraph graph.Graph

func (g fixedGraph) BuildGraph(context.Context, *karbor.RequestContext, []graph.Resource) (graph.Graph, error) {
	return graph.Graph(g), nil
}

// trail is a recorder that writes through the database layer's in-memory
// recorder, as the program does through the SQL one, and also keeps every
// per-resource result in the order reported (the database keeps only the
// last), so a test can see "restoring" before "available".
type trail struct {
	*db.Memory

	mu      sync.Mutex
	results map[string][]string // "<type>#<id>" → statuses in order
	// onResult, if set, runs after each result is recorded.
	onResult func(r karbor.ResourceResult)
}

func newTrail() *trail {
	return &trail{Memory: db.NewMemory(), results: map[string][]string{}}
}

func (r *trail) add(res karbor.ResourceResult) {
	r.mu.Lock()
	k := res.Type + "#" + res.ID
	r.results[k] = append(r.results[k], res.Status)
	f := r.onResult
	r.mu.Unlock()
	if f != nil {
		f(res)
	}
}

func (r *trail) RestoreResource(ctx context.Context, id string, res karbor.ResourceResult) error {
	err := r.Memory.RestoreResource(ctx, id, res)
	r.add(res)
	return err
}

func (r *trail) VerificationResource(ctx context.Context, id string, res karbor.ResourceResult) error {
	err := r.Memory.VerificationResource(ctx, id, res)
	r.add(res)
	return err
}

func (r *trail) sequences() map[string][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string][]string, len(r.results))
	for k, v := range r.results {
		out[k] = slices.Clone(v)
	}
	return out
}

// fixture is a noop provider over a file-system bank in a temporary folder,
// with one available checkpoint of resources().
type fixture struct {
	ctx context.Context
	p   *providers.Provider
	cp  *bank.Checkpoint
	rc  *karbor.RequestContext
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	logger, _ := logtest.NewNullLogger()
	ctx := logctx.With(context.Background(), logrus.NewEntry(logger))
	dir := t.TempDir()
	provDir := filepath.Join(dir, "providers.d")
	require.NoError(t, os.MkdirAll(provDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(provDir, "noop.conf"), []byte(`[provider]
name = No-Op Provider
id = `+providerID+`
plugin = karbor-noop-protection-plugin
bank = karbor-fs-bank-plugin
enabled = True

[file_system_bank_plugin]
file_system_bank_path = `+filepath.Join(dir, "bank")+`
`), 0o644))
	reg, err := providers.Load(ctx, providers.Options{Dir: provDir})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, reg.Close()) })
	p, err := reg.Show(providerID)
	require.NoError(t, err)

	rc := &karbor.RequestContext{UserID: "user-1", ProjectID: "project-1", RequestID: "req-1"}
	plan := &karbor.Plan{ID: "632d8f7d-e2c3-4f31-82ea-900d8afb9880", Name: "plan", ProviderID: providerID, ProjectID: "project-1"}
	for _, n := range resources() {
		plan.Resources = append(plan.Resources, karbor.PlanResource{ID: n.Resource.ID, Type: n.Resource.Type, Name: n.Resource.Name})
	}
	op, id, err := providers.NewBuilder(fixedGraph(resources()), &db.Recorder{}).BuildProtect(ctx, rc, p, plan, providers.CheckpointProperties{})
	require.NoError(t, err)
	require.NoError(t, op.Run(ctx))
	cp, err := p.Checkpoints().Get(ctx, id)
	require.NoError(t, err)
	require.Equal(t, bank.StatusAvailable, cp.Status)
	return &fixture{ctx: ctx, p: p, cp: cp, rc: rc}
}

func (f *fixture) restore(t *testing.T, rec providers.Recorder) (*providers.Operation, string) {
	r := &karbor.Restore{ID: "800fe32c-c20a-4e5f-a776-6b89bab80234", ProjectID: "project-1", ProviderID: providerID,
		CheckpointID: f.cp.ID, Status: karbor.RestoreStatusInProgress}
	return built(t)(providers.NewBuilder(fixedGraph(resources()), rec).BuildRestore(f.ctx, f.rc, f.p, r, f.cp)), r.ID
}

func (f *fixture) verify(t *testing.T, rec providers.Recorder) (*providers.Operation, string) {
	v := &karbor.Verification{ID: "a80b2ec0-a195-4540-aeb5-fbbbde33719e", ProjectID: "project-1", ProviderID: providerID,
		CheckpointID: f.cp.ID, Status: karbor.VerificationStatusInProgress}
	return built(t)(providers.NewBuilder(fixedGraph(resources()), rec).BuildVerify(f.ctx, f.rc, f.p, v, f.cp)), v.ID
}

// built fails the test when an operation could not be built.
func built(t *testing.T) func(*providers.Operation, error) *providers.Operation {
	return func(op *providers.Operation, err error) *providers.Operation {
		t.Helper()
		require.NoError(t, err)
		return op
	}
}

// TestRestoreAndVerifyReportEachResource: a restore marks every resource of
// the checkpoint restoring, then available; a verification marks each
// available; the rows end success with one entry per resource and no
// reasons, as the SQL recorder would write them.
func TestRestoreAndVerifyReportEachResource(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name   string
		build  func(*testing.T, providers.Recorder) (*providers.Operation, string)
		record func(*db.Memory, string) (db.TargetRecord, bool)
		trail  []string
	}{
		{"restore", f.restore, (*db.Memory).Restore, []string{"restoring", "available"}},
		{"verify", f.verify, (*db.Memory).Verification, []string{"available"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newTrail()
			op, id := tc.build(t, rec)
			require.NoError(t, op.Run(f.ctx))

			seq := rec.sequences()
			got := make([]string, 0, len(seq))
			for k, statuses := range seq {
				got = append(got, k)
				assert.Equal(t, tc.trail, statuses, k)
			}
			slices.Sort(got)
			assert.Equal(t, keys(), got, "one entry per resource, keyed <type>#<original id>")

			row, ok := tc.record(rec.Memory, id)
			require.True(t, ok)
			assert.Equal(t, []string{"in_progress", "success"}, row.Statuses)
			want := map[string]string{}
			for _, k := range keys() {
				want[k] = "available"
			}
			assert.Equal(t, want, row.ResourcesStatus)
			assert.Empty(t, row.ResourcesReason, "no reason on success: resources_reason stays NULL")
			assert.Empty(t, row.ResourcesReasonJSON)
			var written map[string]string
			require.NoError(t, json.Unmarshal([]byte(row.ResourcesStatusJSON), &written))
			assert.Equal(t, want, written)

			ops := rec.Memory.Operations()
			require.Len(t, ops, 1)
			assert.Equal(t, "success", ops[0].Status())
			assert.False(t, ops[0].EndedAt.IsZero())
		})
	}
}

// TestRestoreFails is the failure path of a noop restore and verification,
// which no request to the program can provoke (the noop plugin never
// fails): the operation is cancelled while its first resource is being
// restored (a service stopping past graceful_shutdown_timeout), or before
// it started (drained at shutdown). The row and the operation log end
// "fail"; results reported before the cancellation stay recorded.
func TestRestoreFails(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name   string
		build  func(*testing.T, providers.Recorder) (*providers.Operation, string)
		record func(*db.Memory, string) (db.TargetRecord, bool)
		during bool // cancel on the first result, else before Run
	}{
		{"restore cancelled while running", f.restore, (*db.Memory).Restore, true},
		{"verify cancelled while running", f.verify, (*db.Memory).Verification, true},
		{"restore cancelled before it ran", f.restore, (*db.Memory).Restore, false},
		{"verify cancelled before it ran", f.verify, (*db.Memory).Verification, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newTrail()
			ctx, cancel := context.WithCancel(f.ctx)
			defer cancel()
			if tc.during {
				rec.onResult = func(karbor.ResourceResult) { cancel() }
			} else {
				cancel()
			}
			op, id := tc.build(t, rec)
			err := op.Run(ctx)
			require.ErrorIs(t, err, context.Canceled)

			row, ok := tc.record(rec.Memory, id)
			require.True(t, ok)
			ops := rec.Memory.Operations()
			require.Len(t, ops, 1)
			assert.Equal(t, "fail", ops[0].Status())
			assert.False(t, ops[0].EndedAt.IsZero())
			if !tc.during {
				assert.Equal(t, []string{"fail"}, row.Statuses)
				assert.Empty(t, row.ResourcesStatus, "nothing ran")
				return
			}
			assert.Equal(t, []string{"in_progress", "fail"}, row.Statuses)
			assert.NotEmpty(t, row.ResourcesStatus, "the results reported before the cancellation are kept")
		})
	}
}
