package providers_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/graph"
)

var allTypes = karbor.ResourceTypes()

var hooks = []string{"on_prepare_begin", "on_prepare_finish", "on_main", "on_complete"}

// edges lists every parent → child pair of a graph.
func edges(g graph.Graph) [][2]string {
	var out [][2]string
	for _, n := range g.Nodes() {
		for _, c := range n.Children {
			out = append(out, [2]string{n.Resource.ID, c.Resource.ID})
		}
	}
	return out
}

// assertOrder checks karbor's hook order in what ev saw: per resource
// prepare_begin → prepare_finish → main → complete; a parent's
// prepare_begin before its children's, their prepare_finish and complete
// before the parent's (docs/karbor-behaviour.md#hooks-and-their-ordering);
// and that the operation's start and end statuses bracket every hook.
func assertOrder(t *testing.T, ev *events, g graph.Graph, startKind, endKind string) {
	t.Helper()
	seq := func(hook, res string) int {
		s, n := ev.hookSeq(hook, res)
		assert.Equal(t, 1, n, "%s of %s ran %d times", hook, res, n)
		return s
	}
	first, last := 1<<30, 0
	for _, n := range g.Nodes() {
		id := n.Resource.ID
		prev := 0
		for _, h := range hooks {
			s := seq(h, id)
			assert.Less(t, prev, s, "%s of %s out of order", h, id)
			prev = s
			first, last = min(first, s), max(last, s)
		}
	}
	for _, e := range edges(g) {
		p, c := e[0], e[1]
		assert.Less(t, seq("on_prepare_begin", p), seq("on_prepare_begin", c), "%s begins before its child %s", p, c)
		assert.Less(t, seq("on_prepare_finish", c), seq("on_prepare_finish", p), "%s finishes preparing before its parent %s", c, p)
		assert.Less(t, seq("on_complete", c), seq("on_complete", p), "%s completes before its parent %s", c, p)
	}
	var start, end int
	for _, e := range ev.list() {
		if e.kind == startKind && start == 0 {
			start = e.seq
		}
		if e.kind == endKind {
			end = e.seq
		}
	}
	assert.Less(t, start, first, "Initiate before every hook")
	assert.Greater(t, end, last, "Complete after every hook")
}

// protected builds and runs a protect of world() with a plugin that works,
// and returns the available checkpoint.
func protected(t *testing.T, p *providers.Provider, b *providers.Builder) *bank.Checkpoint {
	t.Helper()
	ctx, _ := quiet(t)
	op, id, err := b.BuildProtect(ctx, rc, p, planOf(world(), p.ID()), manual)
	require.NoError(t, err)
	require.NoError(t, op.Run(ctx))
	cp, err := p.Checkpoints().Get(ctx, id)
	require.NoError(t, err)
	require.Equal(t, bank.StatusAvailable, cp.Status)
	return cp
}

func TestFlowOrder(t *testing.T) {
	g := world()
	for _, workers := range []int{1, 3, 64} {
		ctx, _ := quiet(t)
		ev := &events{}
		p := testProvider(t, ctx, &testPlugin{types: allTypes, ev: ev})
		b := providers.NewBuilder(fixedGraph(g), newRecorder(ev), providers.WithWorkers(workers))
		cp := protected(t, p, b)
		assertOrder(t, ev, g, "op-status", "op-ended")

		packed, err := g.Pack()
		require.NoError(t, err)
		require.NotNil(t, cp.ResourceGraph)
		assert.Equal(t, packed, *cp.ResourceGraph, "the stored graph")

		// The other operations walk the stored graph the same way.
		for _, build := range []func() (*providers.Operation, error){
			func() (*providers.Operation, error) {
				return b.BuildRestore(ctx, rc, p, &karbor.Restore{ID: "r", CheckpointID: cp.ID}, cp)
			},
			func() (*providers.Operation, error) {
				return b.BuildVerify(ctx, rc, p, &karbor.Verification{ID: "v", CheckpointID: cp.ID}, cp)
			},
		} {
			*ev = events{}
			op, err := build()
			require.NoError(t, err)
			require.NoError(t, op.Run(ctx))
			assertOrder(t, ev, g, "op-status", "op-ended")
		}
	}
}

func TestHookArgs(t *testing.T) {
	ctx, _ := quiet(t)
	ev := &events{}
	var mu sync.Mutex
	got := map[string]*providers.HookArgs{} // by op and resource
	tp := &testPlugin{types: allTypes, ev: ev, onMain: func(ctx context.Context, a *providers.HookArgs) error {
		mu.Lock()
		defer mu.Unlock()
		got[string(a.Op)+" "+a.Resource.ID] = a
		if a.NewResources != nil {
			a.NewResources.Set(a.Resource.ID, "new-"+a.Resource.ID)
		}
		return nil
	}}
	p := testProvider(t, ctx, tp)
	b := providers.NewBuilder(fixedGraph(world()), newRecorder(ev))
	plan := planOf(world(), p.ID())
	plan.Parameters = karbor.Parameters{
		karbor.VolumeResourceType:                 {"backup_name": "all", "force": "False"},
		karbor.VolumeResourceType + "#vol-shared": {"backup_name": "shared"},
	}
	op, id, err := b.BuildProtect(ctx, rc, p, plan, manual)
	require.NoError(t, err)
	require.NoError(t, op.Run(ctx))

	shared, lone, srv := got["protect vol-shared"], got["protect vol-lone"], got["protect srv-a"]
	require.NotNil(t, shared)
	assert.Equal(t, map[string]string{"backup_name": "shared", "force": "False"}, shared.Parameters)
	assert.Equal(t, map[string]string{"backup_name": "all", "force": "False"}, lone.Parameters)
	assert.Equal(t, map[string]string{}, srv.Parameters)
	assert.Same(t, rc, shared.Request)
	assert.Equal(t, id, shared.Checkpoint.ID())
	assert.Equal(t, "log-1", shared.OperationLogID)
	assert.Nil(t, shared.CheckpointCopy)
	assert.Nil(t, shared.NewResources)
	section, err := shared.Checkpoint.ResourceSection("vol-shared")
	require.NoError(t, err)
	assert.True(t, section.Writable(), "protect writes the checkpoint")
	require.NoError(t, section.PutString(ctx, "status", "available"))

	restore := &karbor.Restore{ID: "restore-1", CheckpointID: id,
		Parameters: karbor.Parameters{karbor.ServerResourceType + "#srv-a": {"restore_name": "x"}}}
	available, err := p.Checkpoints().Get(ctx, id)
	require.NoError(t, err)
	op, err = b.BuildRestore(ctx, rc, p, restore, available)
	require.NoError(t, err)
	require.NoError(t, op.Run(ctx))
	r := got["restore srv-a"]
	require.NotNil(t, r)
	assert.Same(t, restore, r.Restore)
	assert.Equal(t, map[string]string{"restore_name": "x"}, r.Parameters)
	assert.Same(t, r.NewResources, got["restore vol-lone"].NewResources, "one map for the whole restore")
	assert.Equal(t, map[string]string{"prj": "new-prj", "srv-a": "new-srv-a", "srv-b": "new-srv-b", "img-a": "new-img-a",
		"vol-shared": "new-vol-shared", "vol-lone": "new-vol-lone"}, r.NewResources.Map())
	section, err = r.Checkpoint.ResourceSection("vol-shared")
	require.NoError(t, err)
	assert.False(t, section.Writable(), "a restore reads the checkpoint")
	stored, err := section.GetString(ctx, "status")
	require.NoError(t, err)
	assert.Equal(t, "available", stored)

	op, pairs, err := b.BuildCopy(ctx, rc, p, plan, []*bank.Checkpoint{available})
	require.NoError(t, err)
	require.Len(t, pairs, 1)
	require.NoError(t, op.Run(ctx))
	c := got["copy vol-shared"]
	require.NotNil(t, c)
	assert.Equal(t, id, c.Checkpoint.ID())
	assert.Equal(t, pairs[0].CheckpointCopyID, c.CheckpointCopy.ID())
	src, err := c.Checkpoint.ResourceSection("vol-shared")
	require.NoError(t, err)
	dst, err := c.CheckpointCopy.ResourceSection("vol-shared")
	require.NoError(t, err)
	assert.False(t, src.Writable())
	assert.True(t, dst.Writable())
	assert.Equal(t, map[string]string{"backup_name": "shared", "force": "False"}, c.Parameters)
}
