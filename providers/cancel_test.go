package providers_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/db"
	"github.com/gokarbor/karbor-protection/providers"
)

// TestCancelDuringRun cancels each operation while one of its hooks runs:
// the flow is reverted and the failure status recorded.
func TestCancelDuringRun(t *testing.T) {
	failure := map[providers.Op]string{
		providers.OpProtect: bank.StatusError, providers.OpDelete: bank.StatusErrorDeleting, providers.OpCopy: bank.StatusError,
		providers.OpRestore: bank.StatusAvailable, providers.OpVerify: bank.StatusAvailable,
	}
	row := map[providers.Op]string{providers.OpRestore: "restore", providers.OpVerify: "verification"}
	for _, kind := range []providers.Op{providers.OpProtect, providers.OpDelete, providers.OpCopy, providers.OpRestore, providers.OpVerify} {
		t.Run(string(kind), func(t *testing.T) {
			ctx, _ := quiet(t)
			ev := &events{}
			tp := &testPlugin{types: allTypes, ev: ev}
			p := testProvider(t, ctx, tp)
			var available *bank.Checkpoint
			if kind != providers.OpProtect {
				available = protected(t, p, providers.NewBuilder(fixedGraph(world()), &db.Recorder{}))
			}
			tp.block, tp.started = string(kind)+":on_main:vol-lone", make(chan struct{})
			run := buildOp(t, ctx, providers.NewBuilder(fixedGraph(world()), newRecorder(ev)), p, kind, available)

			runCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- run.op.Run(runCtx) }()
			waitClosed(t, tp.started)
			cancel()
			err := <-done
			require.Error(t, err)
			assert.ErrorIs(t, err, context.Canceled)
			assert.Equal(t, failure[kind], status(t, ctx, p, run.target))
			ended := ev.statuses("op-ended")
			require.Len(t, ended, 1)
			if r := row[kind]; r != "" {
				assert.Equal(t, []string{"in_progress", "fail"}, ev.statuses(r))
				assert.Equal(t, "fail", ended[0])
			} else {
				assert.Equal(t, failure[kind], ended[0])
			}
		})
	}
}

// TestCancelBeforeRun is a drain at shutdown: the operation never started,
// and still ends in its failure status.
func TestCancelBeforeRun(t *testing.T) {
	for _, kind := range []providers.Op{providers.OpProtect, providers.OpDelete, providers.OpCopy, providers.OpRestore} {
		t.Run(string(kind), func(t *testing.T) {
			ctx, _ := quiet(t)
			ev := &events{}
			p := testProvider(t, ctx, &testPlugin{types: allTypes, ev: ev})
			var available *bank.Checkpoint
			if kind != providers.OpProtect {
				available = protected(t, p, providers.NewBuilder(fixedGraph(world()), &db.Recorder{}))
			}
			b := providers.NewBuilder(fixedGraph(world()), newRecorder(ev))
			run := buildOp(t, ctx, b, p, kind, available)
			var second opRun
			if kind == providers.OpCopy {
				second = buildOp(t, ctx, b, p, kind, available)
			}
			*ev = events{}
			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			require.ErrorIs(t, run.op.Run(cancelled), context.Canceled)
			for _, e := range ev.list() {
				assert.NotEqual(t, "hook", e.kind, "no hook ran")
			}
			switch kind {
			case providers.OpProtect, providers.OpCopy:
				assert.Equal(t, bank.StatusError, status(t, ctx, p, run.target))
			case providers.OpDelete:
				assert.Equal(t, bank.StatusErrorDeleting, status(t, ctx, p, run.target))
			case providers.OpRestore:
				assert.Equal(t, []string{"fail"}, ev.statuses("restore"))
			}
			if kind == providers.OpCopy {
				assert.Equal(t, bank.StatusWaitCopying, status(t, ctx, p, second.target))
				require.ErrorIs(t, second.op.Run(cancelled), context.Canceled)
				assert.Equal(t, bank.StatusError, status(t, ctx, p, second.target))
			}
		})
	}
}

// TestAbandon: an operation that will not run (the service is stopping)
// is abandoned: nothing runs, every checkpoint, restore or verification it
// holds gets its failure status and its operation-log row is closed, and it
// can then neither run nor be abandoned again.
func TestAbandon(t *testing.T) {
	for _, tc := range []struct {
		kind   providers.Op
		status string // of the checkpoint; "" when the operation does not change it
		row    string // the restore or verification row
	}{
		{providers.OpProtect, bank.StatusError, ""},
		{providers.OpDelete, bank.StatusErrorDeleting, ""},
		{providers.OpCopy, bank.StatusError, ""},
		{providers.OpRestore, "", "restore"},
		{providers.OpVerify, "", "verification"},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			ctx, hook := quiet(t)
			ev := &events{}
			p := testProvider(t, ctx, &testPlugin{types: allTypes, ev: ev})
			var available *bank.Checkpoint
			if tc.kind != providers.OpProtect {
				available = protected(t, p, providers.NewBuilder(fixedGraph(world()), &db.Recorder{}))
			}
			run := buildOp(t, ctx, providers.NewBuilder(fixedGraph(world()), newRecorder(ev)), p, tc.kind, available)
			*ev = events{}
			require.NoError(t, run.op.Abandon(ctx, "the service is stopping"))
			for _, e := range ev.list() {
				assert.NotEqual(t, "hook", e.kind, "no hook ran")
			}
			if tc.status != "" {
				assert.Equal(t, tc.status, status(t, ctx, p, run.target))
				assert.Equal(t, []string{tc.status}, ev.statuses("op-ended"))
			} else {
				assert.Equal(t, bank.StatusAvailable, status(t, ctx, p, run.target), "the checkpoint is not touched")
				assert.Equal(t, []string{"fail"}, ev.statuses(tc.row))
				assert.Equal(t, []string{"fail"}, ev.statuses("op-ended"))
			}
			var warned bool
			for _, e := range hook.AllEntries() {
				warned = warned || e.Level == logrus.WarnLevel && strings.Contains(e.Message, "the service is stopping")
			}
			assert.True(t, warned, "the reason is logged")
			assert.Error(t, run.op.Run(ctx), "an abandoned operation does not run")
			assert.Error(t, run.op.Abandon(ctx, "again"), "nor is it abandoned twice")
		})
	}
}

// TestCopyRunsEachCopyOnItsOwn: one copy failing neither reverts the copy
// made before it nor stops the one after it.
func TestCopyRunsEachCopyOnItsOwn(t *testing.T) {
	ctx, _ := quiet(t)
	ev := &events{}
	tp := &testPlugin{types: allTypes, ev: ev}
	p := testProvider(t, ctx, tp)
	b := providers.NewBuilder(fixedGraph(world()), newRecorder(ev))
	sources := []*bank.Checkpoint{protected(t, p, b), protected(t, p, b), protected(t, p, b)}
	op, pairs, err := b.BuildCopy(ctx, rc, p, planOf(world(), p.ID()), sources)
	require.NoError(t, err)
	require.Len(t, pairs, 3)
	assert.Len(t, op.CheckpointIDs(), 3)
	failing := &failSecond{}
	tp.onMain = failing.onMain
	err = op.Run(ctx)
	require.Error(t, err)
	got := []string{}
	for _, pair := range pairs {
		got = append(got, status(t, ctx, p, pair.CheckpointCopyID))
	}
	assert.Equal(t, []string{bank.StatusAvailable, bank.StatusError, bank.StatusAvailable}, got)
}

// failSecond fails the on_main hooks of the second copy flow that runs.
type failSecond struct {
	mu    sync.Mutex
	flows map[string]bool
}

func (f *failSecond) onMain(_ context.Context, a *providersHookArgs) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.flows == nil {
		f.flows = map[string]bool{}
	}
	id := a.CheckpointCopy.ID()
	f.flows[id] = true
	if len(f.flows) == 2 {
		return assert.AnError
	}
	return nil
}

type providersHookArgs = providers.HookArgs
