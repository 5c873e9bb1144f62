package providers_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/fs"
	"github.com/gokarbor/karbor-protection/providers"
)

// instance is another service instance working on the same file-system bank.
func instance(t *testing.T, ctx context.Context, path, owner string, clock func() time.Time) (*bank.Checkpoints, *fs.Plugin) {
	t.Helper()
	p, err := fs.New(ctx, fs.Options{Path: path, OwnerID: owner, Clock: clock})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return bank.NewCheckpoints(bank.New(p)), p
}

func TestRecover(t *testing.T) {
	ctx, _ := quiet(t)
	bankDir := filepath.Join(t.TempDir(), "bank")
	reg, p := loadOne(t, ctx, providerFile("prov-1", "Recovering", []string{"karbor-noop-protection-plugin"}, bankDir, ""))

	create := func(cps *bank.Checkpoints, providerID, st string) string {
		plan := planOf(world(), providerID)
		bp, err := providers.CheckpointPlan(plan)
		require.NoError(t, err)
		cp, err := cps.Create(ctx, bank.NewCheckpoint{Plan: bp, ProjectID: plan.ProjectID, Status: st})
		require.NoError(t, err)
		return cp.ID
	}

	// An instance whose lease expired long ago (its clock is an hour
	// behind, so the lease it writes ran out 50 minutes ago). It writes
	// first: instances starting later sweep a dead owner's temporary files.
	expired, _ := instance(t, ctx, bankDir, "expired-owner", func() time.Time { return time.Now().Add(-time.Hour) })
	want := map[string]string{} // checkpoint → status after recovery
	for _, st := range []string{bank.StatusProtecting, bank.StatusDeleting, bank.StatusCopying, bank.StatusWaitCopying} {
		want[create(expired, "prov-1", st)] = providers.RecoveryStatus(st)
	}
	for _, st := range []string{bank.StatusAvailable, bank.StatusError, bank.StatusErrorDeleting, bank.StatusDeleted} {
		want[create(expired, "prov-1", st)] = st
	}
	other := create(expired, "other-provider", bank.StatusProtecting)
	// One that stopped (its lease is gone), and one that is alive.
	stoppedCps, stopped := instance(t, ctx, bankDir, "stopped-owner", nil)
	live, _ := instance(t, ctx, bankDir, "live-owner", nil)
	want[create(stoppedCps, "prov-1", bank.StatusProtecting)] = bank.StatusError
	require.NoError(t, stopped.Close())
	want[create(live, "prov-1", bank.StatusProtecting)] = bank.StatusProtecting
	mine := create(p.Checkpoints(), "prov-1", bank.StatusProtecting)
	want[mine] = bank.StatusProtecting

	recovered, err := providers.Recover(ctx, reg)
	require.NoError(t, err)
	for id, st := range want {
		assert.Equal(t, st, status(t, ctx, p, id), "checkpoint %s", id)
	}
	assert.Equal(t, bank.StatusProtecting, status(t, ctx, p, other), "another provider's checkpoint is its own business")
	assert.Len(t, recovered, 5)
	for _, r := range recovered {
		assert.Equal(t, "prov-1", r.ProviderID)
		assert.Equal(t, want[r.CheckpointID], r.To)
		assert.Contains(t, []string{"expired-owner", "stopped-owner"}, r.DeadOwner)
	}
	cp, err := p.Checkpoints().Get(ctx, recovered[0].CheckpointID)
	require.NoError(t, err)
	assert.Equal(t, p.Checkpoints().Bank().OwnerID(), cp.OwnerID, "the recovering instance took the checkpoint over")

	again, err := providers.Recover(ctx, reg)
	require.NoError(t, err)
	assert.Empty(t, again, "nothing left to recover")
}

func TestRecoveryStatus(t *testing.T) {
	for from, to := range map[string]string{
		bank.StatusProtecting: bank.StatusError, bank.StatusCopying: bank.StatusError, bank.StatusWaitCopying: bank.StatusError,
		bank.StatusDeleting: bank.StatusError, bank.StatusAvailable: "", bank.StatusError: "", bank.StatusDeleted: "",
		bank.StatusErrorDeleting: "", "whatever": "",
	} {
		assert.Equal(t, to, providers.RecoveryStatus(from), from)
		if to != "" {
			assert.True(t, bank.CanFlowTransition(from, to), "%s → %s is a transition the bank allows", from, to)
		}
	}
}
