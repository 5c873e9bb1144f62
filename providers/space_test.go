package providers_test

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/fs/fstest"
	"github.com/gokarbor/karbor-protection/providers"
)

// TestFullBankEndsEveryOperation runs operations on a bank whose file
// system (a real tmpfs) is full: each ends in a final status an operator
// can delete or reset, with its operation-log row closed, and a delete
// frees the bank.
func TestFullBankEndsEveryOperation(t *testing.T) {
	ctx, _ := quiet(t)
	mnt := fstest.Tmpfs(t, 1<<20)
	ev := &events{}
	// Protect hooks store a resource's data, as real plugins do; on a full
	// bank that write fails.
	tp := &testPlugin{types: allTypes, ev: ev, onMain: func(ctx context.Context, a *providers.HookArgs) error {
		if a.Op != providers.OpProtect {
			return nil
		}
		s, err := a.Checkpoint.ResourceSection(a.Resource.ID)
		if err != nil {
			return err
		}
		return s.PutString(ctx, "metadata", strings.Repeat("m", 1024))
	}}
	name := t.Name()
	testPlugins.Store(name, tp)
	t.Cleanup(func() { testPlugins.Delete(name) })
	_, p := loadOne(t, ctx, providerFile("prov-1", "Test", []string{testPluginName}, filepath.Join(mnt, "bank"), "\n[test_plugin]\ninstance = "+name+"\n"))
	b := providers.NewBuilder(fixedGraph(world()), newRecorder(ev))
	plan := planOf(world(), p.ID())
	available := protected(t, p, b)
	pending := newCheckpoint(t, ctx, p, plan) // created before the bank filled up
	fstest.Fill(t, mnt)

	t.Run("protect", func(t *testing.T) {
		*ev = events{}
		op, err := b.BuildProtectOf(ctx, rc, p, plan, pending)
		require.NoError(t, err, "the graph still fits index.json's block")
		err = op.Run(ctx)
		require.ErrorIs(t, err, syscall.ENOSPC)
		assert.Equal(t, bank.StatusError, status(t, ctx, p, pending.ID))
		assert.Equal(t, []string{"error"}, ev.statuses("op-ended"))
	})
	t.Run("new checkpoint", func(t *testing.T) {
		_, err := p.Checkpoints().Create(ctx, bank.NewCheckpoint{Plan: bank.Plan{ID: plan.ID, ProviderID: p.ID(), Resources: []byte("[]")}, ProjectID: plan.ProjectID})
		require.ErrorIs(t, err, syscall.ENOSPC)
	})
	t.Run("copy", func(t *testing.T) {
		*ev = events{}
		before, err := p.Checkpoints().List(ctx, bank.ListQuery{ProviderID: p.ID(), ProjectID: plan.ProjectID})
		require.NoError(t, err)
		_, _, err = b.BuildCopy(ctx, rc, p, plan, []*bank.Checkpoint{available})
		require.ErrorIs(t, err, syscall.ENOSPC)
		after, err := p.Checkpoints().List(ctx, bank.ListQuery{ProviderID: p.ID(), ProjectID: plan.ProjectID})
		require.NoError(t, err)
		assert.Len(t, after, len(before), "no copy left wait_copying")
	})
	for _, id := range []string{pending.ID, available.ID} {
		t.Run("delete "+status(t, ctx, p, id), func(t *testing.T) {
			*ev = events{}
			cp, err := p.Checkpoints().BeginDelete(ctx, id)
			require.NoError(t, err)
			op, err := b.BuildDelete(ctx, rc, p, cp)
			require.NoError(t, err)
			require.NoError(t, op.Run(ctx))
			assert.Equal(t, bank.StatusDeleted, status(t, ctx, p, id))
			assert.Equal(t, []string{"deleted"}, ev.statuses("op-ended"))
		})
	}
}
