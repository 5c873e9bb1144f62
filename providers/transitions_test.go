package providers_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/db"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers"
)

// opRun builds one operation of the given type on an available checkpoint
// (or, for protect, on a new one) and returns it with the checkpoint it
// changes (the copy, for a copy).
type opRun struct {
	op      *providers.Operation
	target  string // the checkpoint whose status the operation sets
	restore *karbor.Restore
	verify  *karbor.Verification
}

func buildOp(t *testing.T, ctx context.Context, b *providers.Builder, p *providers.Provider, kind providers.Op, available *bank.Checkpoint) opRun {
	t.Helper()
	plan := planOf(world(), p.ID())
	switch kind {
	case providers.OpProtect:
		op, id, err := b.BuildProtect(ctx, rc, p, plan, manual)
		require.NoError(t, err)
		return opRun{op: op, target: id}
	case providers.OpDelete:
		cp, err := p.Checkpoints().BeginDelete(ctx, available.ID)
		require.NoError(t, err)
		op, err := b.BuildDelete(ctx, rc, p, cp)
		require.NoError(t, err)
		return opRun{op: op, target: cp.ID}
	case providers.OpCopy:
		op, pairs, err := b.BuildCopy(ctx, rc, p, plan, []*bank.Checkpoint{available})
		require.NoError(t, err)
		require.Len(t, pairs, 1)
		assert.Equal(t, available.ID, pairs[0].CheckpointProtectID)
		return opRun{op: op, target: pairs[0].CheckpointCopyID}
	case providers.OpRestore:
		r := &karbor.Restore{ID: "restore-1", ProjectID: "project-1", ProviderID: p.ID(), CheckpointID: available.ID, Status: karbor.RestoreStatusInProgress}
		op, err := b.BuildRestore(ctx, rc, p, r, available)
		require.NoError(t, err)
		return opRun{op: op, target: available.ID, restore: r}
	case providers.OpVerify:
		v := &karbor.Verification{ID: "verify-1", ProjectID: "project-1", ProviderID: p.ID(), CheckpointID: available.ID, Status: karbor.VerificationStatusInProgress}
		op, err := b.BuildVerify(ctx, rc, p, v, available)
		require.NoError(t, err)
		return opRun{op: op, target: available.ID, verify: v}
	}
	t.Fatalf("unknown operation %s", kind)
	return opRun{}
}

func TestStatusTransitions(t *testing.T) {
	type want struct {
		checkpoint string   // the target's final status
		log        []string // operation log: started, status, ended
		row        []string // restore or verification row statuses
	}
	ok := map[providers.Op]want{
		providers.OpProtect: {bank.StatusAvailable, []string{"protecting", "protecting", "available"}, nil},
		providers.OpDelete:  {bank.StatusDeleted, []string{"deleting", "deleting", "deleted"}, nil},
		providers.OpCopy:    {bank.StatusAvailable, []string{"wait_copying", "copying", "available"}, nil},
		providers.OpRestore: {bank.StatusAvailable, []string{"in_progress", "in_progress", "success"}, []string{"in_progress", "success"}},
		providers.OpVerify:  {bank.StatusAvailable, []string{"in_progress", "in_progress", "success"}, []string{"in_progress", "success"}},
	}
	failed := map[providers.Op]want{
		providers.OpProtect: {bank.StatusError, []string{"protecting", "protecting", "error"}, nil},
		providers.OpDelete:  {bank.StatusErrorDeleting, []string{"deleting", "deleting", "error-deleting"}, nil},
		providers.OpCopy:    {bank.StatusError, []string{"wait_copying", "copying", "error"}, nil},
		providers.OpRestore: {bank.StatusAvailable, []string{"in_progress", "in_progress", "fail"}, []string{"in_progress", "fail"}},
		providers.OpVerify:  {bank.StatusAvailable, []string{"in_progress", "in_progress", "fail"}, []string{"in_progress", "fail"}},
	}
	logType := map[providers.Op]string{
		providers.OpProtect: "protect", providers.OpDelete: "protect", providers.OpCopy: "copy",
		providers.OpRestore: "restore", providers.OpVerify: "verify",
	}
	for _, kind := range []providers.Op{providers.OpProtect, providers.OpDelete, providers.OpCopy, providers.OpRestore, providers.OpVerify} {
		for _, fail := range []string{"", "on_prepare_begin:prj", "on_main:vol-shared", "on_complete:prj", "on_complete:vol-lone"} {
			name := string(kind) + " ok"
			if fail != "" {
				name = string(kind) + " fails in " + fail
			}
			t.Run(name, func(t *testing.T) {
				ctx, _ := quiet(t)
				ev := &events{}
				tp := &testPlugin{types: allTypes, ev: ev, report: true}
				p := testProvider(t, ctx, tp)
				var available *bank.Checkpoint
				if kind != providers.OpProtect {
					available = protected(t, p, providers.NewBuilder(fixedGraph(world()), &db.Recorder{}))
				}
				if fail != "" {
					tp.fail = string(kind) + ":" + fail
				}
				rec := newRecorder(ev)
				b := providers.NewBuilder(fixedGraph(world()), rec, providers.WithWorkers(4))
				run := buildOp(t, ctx, b, p, kind, available)

				err := run.op.Run(ctx)
				w := ok[kind]
				if fail != "" {
					require.Error(t, err)
					assert.ErrorContains(t, err, "hook failed on purpose")
					w = failed[kind]
				} else {
					require.NoError(t, err)
				}
				assert.Equal(t, w.checkpoint, status(t, ctx, p, run.target))
				var logStatuses []string
				for _, e := range ev.list() {
					switch e.kind {
					case "op-started", "op-status", "op-ended":
						logStatuses = append(logStatuses, e.status)
					}
				}
				assert.Equal(t, w.log, logStatuses)

				// A failed operation reverts, once, every resource any
				// of whose steps ran, after its last step.
				lastHook, reverts := map[string]int{}, map[string][]int{}
				for _, e := range ev.list() {
					switch {
					case e.kind == "hook" && e.op == kind:
						lastHook[e.res] = e.seq
					case e.kind == "revert" && e.op == kind:
						reverts[e.res] = append(reverts[e.res], e.seq)
					}
				}
				if fail == "" {
					assert.Empty(t, reverts, "a successful operation reverts nothing")
				} else {
					assert.Len(t, reverts, len(lastHook))
					for res, seq := range lastHook {
						if assert.Len(t, reverts[res], 1, res) {
							assert.Greater(t, reverts[res][0], seq, "%s reverted after its last step", res)
						}
					}
				}
				switch kind {
				case providers.OpRestore:
					assert.Equal(t, w.row, ev.statuses("restore"))
				case providers.OpVerify:
					assert.Equal(t, w.row, ev.statuses("verification"))
				}

				l := rec.onlyLog(t)
				assert.Equal(t, logType[kind], l.Type)
				assert.Equal(t, "project-1", l.ProjectID)
				assert.Equal(t, p.ID(), l.ProviderID)
				assert.False(t, l.StartedAt.IsZero())
				switch kind {
				case providers.OpRestore:
					assert.Equal(t, "restore-1", l.RestoreID)
					assert.Empty(t, l.PlanID)
					assert.Equal(t, run.target, l.CheckpointID)
				case providers.OpVerify:
					assert.Empty(t, l.RestoreID)
					assert.Empty(t, l.PlanID)
				default:
					assert.Equal(t, "plan-1", l.PlanID)
					assert.Equal(t, run.target, l.CheckpointID)
				}
			})
		}
	}
}

func TestDeleteRemovesIndices(t *testing.T) {
	ctx, _ := quiet(t)
	p := testProvider(t, ctx, &testPlugin{types: allTypes, ev: &events{}})
	b := providers.NewBuilder(fixedGraph(world()), &db.Recorder{})
	cp := protected(t, p, b)
	listed := func() []string {
		ids, err := p.Checkpoints().ListIDs(ctx, bank.ListQuery{ProviderID: p.ID(), ProjectID: "project-1"})
		require.NoError(t, err)
		return ids
	}
	require.Equal(t, []string{cp.ID}, listed())
	run := buildOp(t, ctx, b, p, providers.OpDelete, cp)
	require.NoError(t, run.op.Run(ctx))
	assert.Empty(t, listed())
	assert.Equal(t, bank.StatusDeleted, status(t, ctx, p, cp.ID), "index.json stays")
}

func TestCopyMarksFinished(t *testing.T) {
	ctx, _ := quiet(t)
	p := testProvider(t, ctx, &testPlugin{types: allTypes, ev: &events{}})
	b := providers.NewBuilder(fixedGraph(world()), &db.Recorder{})
	src := protected(t, p, b)
	run := buildOp(t, ctx, b, p, providers.OpCopy, src)
	require.NoError(t, run.op.Run(ctx))
	cp, err := p.Checkpoints().Get(ctx, run.target)
	require.NoError(t, err)
	assert.Equal(t, `"{\"copy_status\": \"finished\"}"`, string(cp.ExtraInfo))
	assert.Equal(t, src.Plan.ID, cp.Plan.ID)
	assert.Equal(t, *src.ResourceGraph, *cp.ResourceGraph)

	// The finished copy is not copied again; the source, unchanged, is; a
	// checkpoint that is not available is not.
	again, err := p.Checkpoints().Get(ctx, src.ID)
	require.NoError(t, err)
	assert.Equal(t, src.ExtraInfo, again.ExtraInfo)
	protecting := newCheckpoint(t, ctx, p, planOf(world(), p.ID()))
	_, pairs, err := b.BuildCopy(ctx, rc, p, planOf(world(), p.ID()), []*bank.Checkpoint{cp, again, protecting})
	require.NoError(t, err)
	require.Len(t, pairs, 1)
	assert.Equal(t, src.ID, pairs[0].CheckpointProtectID)

	op, pairs, err := b.BuildCopy(ctx, rc, p, planOf(world(), p.ID()), []*bank.Checkpoint{cp})
	require.NoError(t, err)
	assert.Equal(t, []providers.CopyPair{}, pairs)
	assert.Zero(t, op.Tasks())
	require.NoError(t, op.Run(ctx))
	b2, err := json.Marshal(pairs)
	require.NoError(t, err)
	assert.Equal(t, "[]", string(b2))
}

func TestCopyExtraInfoMerge(t *testing.T) {
	ctx, _ := quiet(t)
	p := testProvider(t, ctx, &testPlugin{types: allTypes, ev: &events{}})
	b := providers.NewBuilder(fixedGraph(world()), &db.Recorder{})
	src := protected(t, p, b)
	for _, tc := range []struct{ before, after string }{
		{`{}`, `"{\"copy_status\": \"finished\"}"`},
		{`null`, `"{\"copy_status\": \"finished\"}"`},
		{`""`, `"{\"copy_status\": \"finished\"}"`},
		{`"{\"created_by\": \"manual\"}"`, `"{\"created_by\": \"manual\", \"copy_status\": \"finished\"}"`},
		{`"{\"copy_status\": \"x\", \"b\": 1}"`, `"{\"copy_status\": \"finished\", \"b\": 1}"`},
	} {
		run := buildOp(t, ctx, b, p, providers.OpCopy, src)
		_, err := p.Checkpoints().Update(ctx, run.target, func(c *bank.Checkpoint) error {
			c.ExtraInfo = json.RawMessage(tc.before)
			return nil
		})
		require.NoError(t, err)
		require.NoError(t, run.op.Run(ctx))
		cp, err := p.Checkpoints().Get(ctx, run.target)
		require.NoError(t, err)
		assert.Equal(t, tc.after, string(cp.ExtraInfo), tc.before)
	}
}

func TestRestoreReportsResults(t *testing.T) {
	ctx, _ := quiet(t)
	ev := &events{}
	p := testProvider(t, ctx, &testPlugin{types: allTypes, ev: ev, report: true})
	b := providers.NewBuilder(fixedGraph(world()), newRecorder(ev))
	cp := protected(t, p, b)
	for _, kind := range []providers.Op{providers.OpRestore, providers.OpVerify, providers.OpProtect} {
		*ev = events{}
		run := buildOp(t, ctx, b, p, kind, cp)
		require.NoError(t, run.op.Run(ctx))
		var reported []string
		for _, e := range ev.list() {
			if e.kind == "restore-resource" || e.kind == "verification-resource" {
				reported = append(reported, e.kind+" "+e.res)
			}
		}
		switch kind {
		case providers.OpRestore:
			assert.Len(t, reported, 6)
			assert.Contains(t, reported, "restore-resource vol-shared")
		case providers.OpVerify:
			assert.Len(t, reported, 6)
			assert.Contains(t, reported, "verification-resource prj")
		default:
			assert.Empty(t, reported, "a protect records no per-resource results")
		}
	}
}

func TestOperationRunsOnce(t *testing.T) {
	ctx, _ := quiet(t)
	p := testProvider(t, ctx, &testPlugin{types: allTypes, ev: &events{}})
	b := providers.NewBuilder(fixedGraph(world()), &db.Recorder{})
	run := buildOp(t, ctx, b, p, providers.OpProtect, nil)
	assert.Equal(t, providers.OpProtect, run.op.Type())
	assert.Equal(t, []string{run.target}, run.op.CheckpointIDs())
	assert.Equal(t, 4*6+2, run.op.Tasks())
	require.NoError(t, run.op.Run(ctx))
	assert.Error(t, run.op.Run(ctx))
}
