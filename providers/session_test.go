package providers_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/karbortest"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/protectables"
	_ "github.com/gokarbor/karbor-protection/providers/protectables/openstack"
)

// sameCheckpoint compares a checkpoint dict with a recorded one, but for
// the id and creation date, which are the recorded run's.
func sameCheckpoint(t *testing.T, recorded json.RawMessage, cp *bank.Checkpoint) {
	t.Helper()
	var want, got map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(recorded, &want))
	raw, err := json.Marshal(cp.Dict())
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &got))
	for _, k := range []string{"id", "created_at"} {
		assert.NotEmpty(t, got[k])
		delete(want, k)
		delete(got, k)
	}
	for k, v := range want {
		assert.JSONEq(t, string(v), string(got[k]), k)
	}
	assert.Len(t, got, len(want))
}

// TestRecordedSession replays the recorded session's operations with the
// noop provider, a file-system bank and no OpenStack, and compares the
// checkpoint at each step with what the Python service answered.
func TestRecordedSession(t *testing.T) {
	ctx, _ := quiet(t)
	_, p := loadOne(t, ctx, noopFile(t.TempDir()))
	ev := &events{}
	b := providers.NewBuilder(protectables.Load(ctx, nil), newRecorder(ev))
	ex := karbortest.Session(t)
	byMethod := func(m string, n int) karbortest.Exchange {
		for _, e := range ex {
			if e.Method == m {
				if n == 0 {
					return e
				}
				n--
			}
		}
		t.Fatalf("no %s", m)
		return karbortest.Exchange{}
	}
	protect0 := byMethod("protect", 0)
	protectCtx, err := protect0.ContextValues()
	require.NoError(t, err)
	reqCtx, err := karbor.FromMap(protectCtx)
	require.NoError(t, err)
	get := func(id string) *bank.Checkpoint {
		cp, err := p.Checkpoints().Get(ctx, id)
		require.NoError(t, err)
		return cp
	}

	// protect, as the manager will: create the checkpoint, build, reply,
	// run.
	protect := byMethod("protect", 0)
	plan, err := karbor.DecodePlan(protect.Args["plan"])
	require.NoError(t, err)
	var props struct {
		Status    string          `json:"status"`
		ExtraInfo json.RawMessage `json:"extra_info"`
	}
	require.NoError(t, json.Unmarshal(protect.Args["checkpoint_properties"], &props))
	op, id, err := b.BuildProtect(ctx, &reqCtx, p, plan, providers.CheckpointProperties{Status: props.Status, ExtraInfo: props.ExtraInfo})
	require.NoError(t, err)
	cp := get(id)
	sameCheckpoint(t, byMethod("show_checkpoint", 0).Result, get(cp.ID))
	require.NoError(t, op.Run(ctx))
	sameCheckpoint(t, byMethod("show_checkpoint", 2).Result, get(cp.ID))

	// restore succeeds with the noop plugin; so does verification, which
	// Python fails to build (its noop plugin has no verify).
	restore, err := karbor.DecodeRestore(byMethod("restore", 0).Args["restore"])
	require.NoError(t, err)
	v, err := karbor.DecodeVerification(byMethod("verification", 0).Args["verification"])
	require.NoError(t, err)
	restore.CheckpointID, v.CheckpointID = cp.ID, cp.ID
	for row, build := range map[string]func() (*providers.Operation, error){
		"restore":      func() (*providers.Operation, error) { return b.BuildRestore(ctx, &reqCtx, p, restore, get(cp.ID)) },
		"verification": func() (*providers.Operation, error) { return b.BuildVerify(ctx, &reqCtx, p, v, get(cp.ID)) },
	} {
		op, err := build()
		require.NoError(t, err)
		require.NoError(t, op.Run(ctx))
		assert.Equal(t, []string{"in_progress", "success"}, ev.statuses(row))
	}

	// reset_state to error, then delete.
	_, err = p.Checkpoints().ResetState(ctx, cp.ID, bank.StatusError)
	require.NoError(t, err)
	sameCheckpoint(t, byMethod("show_checkpoint", 4).Result, get(cp.ID))
	deleting, err := p.Checkpoints().BeginDelete(ctx, cp.ID)
	require.NoError(t, err)
	op, err = b.BuildDelete(ctx, &reqCtx, p, deleting)
	require.NoError(t, err)
	require.NoError(t, op.Run(ctx))
	sameCheckpoint(t, byMethod("show_checkpoint", 5).Result, get(cp.ID))

	// copy: the plan's only checkpoint is deleted, so nothing is copied.
	copyPlan, err := karbor.DecodePlan(byMethod("copy", 0).Args["plan"])
	require.NoError(t, err)
	listed, err := p.Checkpoints().List(ctx, bank.ListQuery{ProviderID: p.ID(), ProjectID: reqCtx.ProjectID, PlanID: copyPlan.ID})
	require.NoError(t, err)
	_, pairs, err := b.BuildCopy(ctx, &reqCtx, p, copyPlan, listed)
	require.NoError(t, err)
	got, err := json.Marshal(pairs)
	require.NoError(t, err)
	assert.JSONEq(t, string(byMethod("copy", 0).Result), string(got))

	// An operation-log row for each operation, with its starting status.
	assert.Equal(t, []string{"protecting", "in_progress", "in_progress", "deleting"}, ev.statuses("op-started"))
}
