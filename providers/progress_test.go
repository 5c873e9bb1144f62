package providers_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/progress"
	"github.com/gokarbor/karbor-protection/providers"
)

// TestProgress checks what a tracker sees of the operations: each flow is
// a running operation while it runs, in a hook phase while hooks run, and
// finished with its final status, every resource counted once.
func TestProgress(t *testing.T) {
	const resources = 6 // world()'s distinct resources
	tracker := progress.New(progress.Options{})
	var mu sync.Mutex
	var during []progress.View // what on_main hooks saw
	tp := &testPlugin{types: allTypes, ev: &events{}, onMain: func(context.Context, *providers.HookArgs) error {
		s := tracker.Snapshot()
		mu.Lock()
		during = append(during, s.Running...)
		mu.Unlock()
		return nil
	}}
	ctx, _ := quiet(t)
	p := testProvider(t, ctx, tp)
	b := providers.NewBuilder(fixedGraph(world()), newRecorder(&events{}), providers.WithProgress(tracker))

	plan := planOf(world(), p.ID())
	plan.ProjectID = "project-1"
	op, id, err := b.BuildProtect(ctx, rc, p, plan, manual)
	require.NoError(t, err)
	assert.Empty(t, tracker.Snapshot().Running, "nothing runs before Run")
	require.NoError(t, op.Run(ctx))

	require.Len(t, during, resources)
	for _, v := range during {
		assert.Equal(t, progress.Info{Type: "protect", ProviderID: p.ID(), CheckpointID: id, ProjectID: "project-1", ResourcesTotal: resources}, v.Info)
		assert.Contains(t, []string{"on_main", "on_complete"}, v.Phase, "the furthest hook started")
		assert.Less(t, v.ResourcesDone, resources)
	}
	s := tracker.Snapshot()
	assert.Empty(t, s.Running)
	require.Len(t, s.Finished, 1)
	assert.Equal(t, "available", s.Finished[0].Status)
	assert.Equal(t, resources, s.Finished[0].ResourcesDone)
	assert.Equal(t, progress.PhaseEnded, s.Finished[0].Phase)

	t.Run("restore", func(t *testing.T) {
		cp, err := p.Checkpoints().Get(ctx, id)
		require.NoError(t, err)
		op, err := b.BuildRestore(ctx, rc, p, &karbor.Restore{ID: "restore-1", ProjectID: "project-2", CheckpointID: id}, cp)
		require.NoError(t, err)
		require.NoError(t, op.Run(ctx))
		f := tracker.Snapshot().Finished[0]
		assert.Equal(t, progress.Info{Type: "restore", ProviderID: p.ID(), CheckpointID: id, RestoreID: "restore-1", ProjectID: "project-2",
			ResourcesTotal: resources}, f.Info)
		assert.Equal(t, karbor.RestoreStatusSuccess, f.Status)
	})

	t.Run("failure", func(t *testing.T) {
		tp.fail = "protect:on_main:srv-a"
		defer func() { tp.fail = "" }()
		op, id, err := b.BuildProtect(ctx, rc, p, plan, manual)
		require.NoError(t, err)
		require.Error(t, op.Run(ctx))
		f := tracker.Snapshot().Finished[0]
		assert.Equal(t, id, f.CheckpointID)
		assert.Equal(t, "error", f.Status)
		assert.Contains(t, f.Error, "hook failed on purpose")
		assert.Less(t, f.ResourcesDone, resources)
	})
}
