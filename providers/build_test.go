package providers_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/db"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/graph"
	"github.com/gokarbor/karbor-protection/taskflow"
)

func karborError(t *testing.T, err error) *karbor.Error {
	t.Helper()
	var ke *karbor.Error
	require.ErrorAs(t, err, &ke)
	return ke
}

func TestBuildProtectFailures(t *testing.T) {
	loop := errors.New("children failed")
	for _, tc := range []struct {
		name    string
		types   []string
		missing providers.Op
		graphs  providers.GraphBuilder
		check   func(t *testing.T, err error)
		logged  bool // the operation-log row was written, then closed
	}{
		{
			name: "no plugin for a type", types: []string{karbor.ProjectResourceType, karbor.ServerResourceType, karbor.VolumeResourceType},
			graphs: fixedGraph(world()), logged: true,
			check: func(t *testing.T, err error) {
				assert.Equal(t, "Protection Plugin for OS::Glance::Image could not be found.", karborError(t, err).Error())
			},
		},
		{
			name: "plugin without protect", types: allTypes, missing: providers.OpProtect, graphs: fixedGraph(world()), logged: true,
			check: func(t *testing.T, err error) { assert.ErrorIs(t, err, providers.ErrNotImplemented) },
		},
		{
			name: "graph fails", types: allTypes, graphs: failingGraph{loop},
			check: func(t *testing.T, err error) { assert.ErrorIs(t, err, loop) },
		},
		{
			name: "duplicate task names", types: allTypes,
			graphs: fixedGraph(graph.Graph{node("T", "same"), &graph.Node{Resource: graph.Resource{Type: "T", ID: "same", Name: "other"}}}),
			logged: true,
			check: func(t *testing.T, err error) {
				assert.ErrorIs(t, err, taskflow.ErrDuplicateName)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, _ := quiet(t)
			ev := &events{}
			tp := &testPlugin{types: append(tc.types, "T"), ev: ev, missing: map[providers.Op]bool{tc.missing: true}}
			p := testProvider(t, ctx, tp)
			b := providers.NewBuilder(tc.graphs, newRecorder(ev))
			plan := planOf(world(), p.ID())
			op, id, err := b.BuildProtect(ctx, rc, p, plan, manual)
			require.Error(t, err)
			assert.Nil(t, op)
			tc.check(t, err)
			assert.NotErrorIs(t, err, providers.ErrCheckpointNotCreated)
			assert.Equal(t, bank.StatusError, status(t, ctx, p, id), "not left protecting")
			if tc.logged {
				assert.Equal(t, []string{"protecting"}, ev.statuses("op-started"))
				assert.Equal(t, []string{"error"}, ev.statuses("op-ended"))
			} else {
				assert.Empty(t, ev.statuses("op-started"))
			}
		})
	}
}

type failingGraph struct{ err error }

func (g failingGraph) BuildGraph(context.Context, *karbor.RequestContext, []graph.Resource) (graph.Graph, error) {
	return nil, g.err
}

func TestBuildProtectRefusesWrongStatus(t *testing.T) {
	ctx, _ := quiet(t)
	p := testProvider(t, ctx, &testPlugin{types: allTypes, ev: &events{}})
	b := providers.NewBuilder(fixedGraph(world()), &db.Recorder{})
	_, id, err := b.BuildProtect(ctx, rc, p, planOf(world(), p.ID()), providers.CheckpointProperties{Status: bank.StatusAvailable})
	assert.ErrorContains(t, err, "is available, not protecting")
	assert.Equal(t, bank.StatusAvailable, status(t, ctx, p, id))
	cp := protected(t, p, b)
	_, err = b.BuildDelete(ctx, rc, p, cp)
	assert.ErrorContains(t, err, "is available, not deleting")
	assert.Equal(t, bank.StatusAvailable, status(t, ctx, p, cp.ID))
}

func TestBuildRestoreAndVerifyFailures(t *testing.T) {
	for _, kind := range []providers.Op{providers.OpRestore, providers.OpVerify} {
		t.Run(string(kind)+" not implemented", func(t *testing.T) {
			ctx, _ := quiet(t)
			ev := &events{}
			tp := &testPlugin{types: allTypes, ev: ev}
			p := testProvider(t, ctx, tp)
			cp := protected(t, p, providers.NewBuilder(fixedGraph(world()), &db.Recorder{}))
			tp.missing = map[providers.Op]bool{kind: true}
			b := providers.NewBuilder(fixedGraph(world()), newRecorder(ev))
			var err error
			if kind == providers.OpRestore {
				_, err = b.BuildRestore(ctx, rc, p, &karbor.Restore{ID: "r", Status: "in_progress"}, cp)
			} else {
				_, err = b.BuildVerify(ctx, rc, p, &karbor.Verification{ID: "v", Status: "in_progress"}, cp)
			}
			assert.ErrorIs(t, err, providers.ErrNotImplemented)
			assert.Equal(t, bank.StatusAvailable, status(t, ctx, p, cp.ID), "a restore never changes the checkpoint")
			assert.Equal(t, []string{"in_progress"}, ev.statuses("op-started"))
			assert.Equal(t, []string{"fail"}, ev.statuses("op-ended"))
		})
	}
	t.Run("graph not topologically ordered", func(t *testing.T) {
		ctx, _ := quiet(t)
		p := testProvider(t, ctx, &testPlugin{types: allTypes, ev: &events{}})
		cp := protected(t, p, providers.NewBuilder(fixedGraph(world()), &db.Recorder{}))
		bad := `[{"0x0": ["V", "v", "v", null], "0x1": ["S", "s", "s", null], "0x2": ["P", "p", "p", null]}, [["0x2", ["0x1"]], ["0x1", ["0x0"]]]]`
		cp.ResourceGraph = &bad
		ev := &events{}
		_, err := providers.NewBuilder(nil, newRecorder(ev)).BuildRestore(ctx, rc, p, &karbor.Restore{ID: "r"}, cp)
		assert.Equal(t, "Invalid input received: PackedGraph adjacency list must be topologically ordered", karborError(t, err).Error())
		assert.Empty(t, ev.statuses("op-started"), "as in Python, an unreadable graph fails before the operation log is written")
	})
}

func TestBuildDeleteFailuresAndEmptyGraph(t *testing.T) {
	t.Run("malformed stored graph", func(t *testing.T) {
		// A checkpoint must always be deletable: one whose graph cannot be
		// read is deleted as if it had no resources, with a warning.
		ctx, hook := quiet(t)
		ev := &events{}
		p := testProvider(t, ctx, &testPlugin{types: allTypes, ev: ev})
		b := providers.NewBuilder(fixedGraph(world()), newRecorder(ev))
		cp := protected(t, p, b)
		_, err := p.Checkpoints().SetResourceGraph(ctx, cp.ID, "not a graph")
		require.NoError(t, err)
		cp, err = p.Checkpoints().BeginDelete(ctx, cp.ID)
		require.NoError(t, err)
		*ev = events{}
		op, err := b.BuildDelete(ctx, rc, p, cp)
		require.NoError(t, err)
		require.NoError(t, op.Run(ctx))
		assert.Equal(t, bank.StatusDeleted, status(t, ctx, p, cp.ID))
		assert.Equal(t, []string{"deleting"}, ev.statuses("op-started"))
		assert.Equal(t, []string{"deleted"}, ev.statuses("op-ended"))
		_, n := ev.hookSeq("on_main", "srv-a")
		assert.Zero(t, n, "no resource is known, no hook runs")
		var warned bool
		for _, e := range hook.AllEntries() {
			warned = warned || e.Level == logrus.WarnLevel && strings.Contains(e.Message, "data may remain") &&
				errors.Is(e.Data[logrus.ErrorKey].(error), graph.ErrMalformed)
		}
		assert.True(t, warned, "the operator is told plugin data may remain")
	})
	t.Run("no stored graph", func(t *testing.T) {
		// A checkpoint whose protect never built a flow: Python cannot
		// delete it; here it is deleted like an empty one.
		ctx, _ := quiet(t)
		p := testProvider(t, ctx, &testPlugin{types: allTypes, ev: &events{}})
		b := providers.NewBuilder(failingGraph{errors.New("no OpenStack")}, &db.Recorder{})
		plan := planOf(world(), p.ID())
		_, id, err := b.BuildProtect(ctx, rc, p, plan, manual)
		require.Error(t, err)
		cp, err := p.Checkpoints().BeginDelete(ctx, id)
		require.NoError(t, err)
		require.Nil(t, cp.ResourceGraph)
		op, err := b.BuildDelete(ctx, rc, p, cp)
		require.NoError(t, err)
		require.NoError(t, op.Run(ctx))
		assert.Equal(t, bank.StatusDeleted, status(t, ctx, p, cp.ID))
	})
}

func TestBuildCopyFailures(t *testing.T) {
	copiesOf := func(t *testing.T, ctx context.Context, p *providers.Provider) map[string]string {
		cps, err := p.Checkpoints().List(ctx, bank.ListQuery{ProviderID: p.ID(), ProjectID: "project-1"})
		require.NoError(t, err)
		out := map[string]string{}
		for _, c := range cps {
			out[c.ID] = c.Status
		}
		return out
	}
	t.Run("a flow cannot be built", func(t *testing.T) {
		ctx, _ := quiet(t)
		ev := &events{}
		tp := &testPlugin{types: allTypes, ev: ev}
		p := testProvider(t, ctx, tp)
		b := providers.NewBuilder(fixedGraph(world()), newRecorder(ev))
		src1, src2 := protected(t, p, b), protected(t, p, b)
		tp.types = []string{karbor.ProjectResourceType} // the provider keeps its map; the plugin now misses copy
		tp.missing = map[providers.Op]bool{providers.OpCopy: true}
		*ev = events{}
		_, _, err := b.BuildCopy(ctx, rc, p, planOf(world(), p.ID()), []*bank.Checkpoint{src1, src2})
		ke := karborError(t, err)
		assert.Equal(t, "FlowError", ke.PythonClass())
		assert.Equal(t, "Flow: copy, Error: Internal error", ke.Error(), "wrapped once here, once more by the manager")
		assert.ErrorIs(t, err, providers.ErrNotImplemented)
		statuses := copiesOf(t, ctx, p)
		assert.Len(t, statuses, 4)
		assert.Equal(t, bank.StatusAvailable, statuses[src1.ID])
		assert.Equal(t, bank.StatusAvailable, statuses[src2.ID])
		delete(statuses, src1.ID)
		delete(statuses, src2.ID)
		for id, s := range statuses {
			assert.Equal(t, bank.StatusError, s, "copy %s not left wait_copying", id)
		}
		assert.Equal(t, []string{"wait_copying"}, ev.statuses("op-started"), "the first copy's log, then closed")
		assert.Equal(t, []string{"error"}, ev.statuses("op-ended"))
	})
	t.Run("no plugin for a type", func(t *testing.T) {
		ctx, _ := quiet(t)
		p := testProvider(t, ctx, &testPlugin{types: allTypes, ev: &events{}})
		src := protected(t, p, providers.NewBuilder(fixedGraph(world()), &db.Recorder{}))
		extra := graph.Graph{node("OS::Foo::Bar", "x")}
		_, _, err := providers.NewBuilder(fixedGraph(extra), &db.Recorder{}).BuildCopy(ctx, rc, p, planOf(world(), p.ID()), []*bank.Checkpoint{src})
		assert.Equal(t, "Flow: copy, Error: Protection Plugin for OS::Foo::Bar could not be found.", karborError(t, err).Error())
	})
	t.Run("the graph cannot be built", func(t *testing.T) {
		ctx, _ := quiet(t)
		p := testProvider(t, ctx, &testPlugin{types: allTypes, ev: &events{}})
		src := protected(t, p, providers.NewBuilder(fixedGraph(world()), &db.Recorder{}))
		_, _, err := providers.NewBuilder(failingGraph{errors.New("down")}, &db.Recorder{}).BuildCopy(ctx, rc, p, planOf(world(), p.ID()), []*bank.Checkpoint{src})
		assert.Equal(t, "Flow: copy, Error: Internal error", karborError(t, err).Error())
		assert.Len(t, copiesOf(t, ctx, p), 1, "no copy made")
	})
}

// TestDeleteSkipsResourcesWithoutPlugin: a checkpoint stays deletable when
// a resource's type has no plugin, whether its protect failed for that
// reason or the plugin left the provider since. The resource is skipped
// with a warning; every other resource is deleted in the usual order.
func TestDeleteSkipsResourcesWithoutPlugin(t *testing.T) {
	withoutImage := []string{karbor.ProjectResourceType, karbor.ServerResourceType, karbor.VolumeResourceType}
	deleteWith := func(t *testing.T, ctx context.Context, hook *test.Hook, p *providers.Provider, ev *events, id string) {
		t.Helper()
		cp, err := p.Checkpoints().BeginDelete(ctx, id)
		require.NoError(t, err)
		*ev = events{}
		op, err := providers.NewBuilder(fixedGraph(world()), newRecorder(ev)).BuildDelete(ctx, rc, p, cp)
		require.NoError(t, err)
		require.NoError(t, op.Run(ctx))
		assert.Equal(t, bank.StatusDeleted, status(t, ctx, p, id))
		assert.Equal(t, []string{"deleted"}, ev.statuses("op-ended"))
		_, n := ev.hookSeq("on_main", "img-a")
		assert.Zero(t, n, "no plugin, no hook")
		for _, res := range []string{"prj", "srv-a", "srv-b", "vol-shared", "vol-lone"} {
			_, n := ev.hookSeq("on_main", res)
			assert.Equal(t, 1, n, "%s deleted", res)
		}
		srv, _ := ev.hookSeq("on_prepare_begin", "srv-a")
		vol, _ := ev.hookSeq("on_prepare_begin", "vol-shared")
		assert.Less(t, srv, vol, "order kept around the skipped resource")
		var warned bool
		for _, e := range hook.AllEntries() {
			warned = warned || e.Level == logrus.WarnLevel && e.Data["resource_id"] == "img-a" && e.Data["resource_type"] == karbor.ImageResourceType
		}
		assert.True(t, warned, "the skipped resource is logged")
	}
	t.Run("protect failed for want of a plugin", func(t *testing.T) {
		ctx, hook := quiet(t)
		ev := &events{}
		p := testProvider(t, ctx, &testPlugin{types: withoutImage, ev: ev})
		plan := planOf(world(), p.ID())
		_, id, err := providers.NewBuilder(fixedGraph(world()), newRecorder(ev)).BuildProtect(ctx, rc, p, plan, manual)
		require.Error(t, err)
		require.Equal(t, bank.StatusError, status(t, ctx, p, id))
		deleteWith(t, ctx, hook, p, ev, id)
	})
	t.Run("plugin removed from the provider", func(t *testing.T) {
		ctx, hook := quiet(t)
		ev := &events{}
		bankDir := filepath.Join(t.TempDir(), "bank")
		load := func(name string, tp *testPlugin) *providers.Provider {
			testPlugins.Store(name, tp)
			t.Cleanup(func() { testPlugins.Delete(name) })
			_, p := loadOne(t, ctx, providerFile("prov-1", "Test", []string{testPluginName}, bankDir, "\n[test_plugin]\ninstance = "+name+"\n"))
			return p
		}
		before := load(t.Name()+"/before", &testPlugin{types: allTypes, ev: ev})
		cp := protected(t, before, providers.NewBuilder(fixedGraph(world()), newRecorder(ev)))
		after := load(t.Name()+"/after", &testPlugin{types: withoutImage, ev: ev})
		deleteWith(t, ctx, hook, after, ev, cp.ID)
	})
	t.Run("other operations still need the plugin", func(t *testing.T) {
		ctx, _ := quiet(t)
		ev := &events{}
		p := testProvider(t, ctx, &testPlugin{types: allTypes, ev: ev})
		cp := protected(t, p, providers.NewBuilder(fixedGraph(world()), newRecorder(ev)))
		_, err := providers.NewBuilder(nil, newRecorder(ev)).BuildVerify(ctx, rc, testProvider(t, ctx, &testPlugin{types: withoutImage, ev: ev}), &karbor.Verification{ID: "v"}, cp)
		assert.Equal(t, "Protection Plugin for OS::Glance::Image could not be found.", karborError(t, err).Error())
	})
}
