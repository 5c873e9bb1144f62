package bank_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/fs/fstest"
	"github.com/gokarbor/karbor-protection/bank/internal/banktest"
)

// containerDirs lists every directory under the container, relative.
func containerDirs(t *testing.T, container string) []string {
	t.Helper()
	var dirs []string
	require.NoError(t, filepath.WalkDir(container, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() || path == container {
			return err
		}
		rel, _ := filepath.Rel(container, path)
		dirs = append(dirs, filepath.ToSlash(rel))
		return nil
	}))
	return dirs
}

// TestFailedCreateWritesNothing: whichever index key write of a create
// fails (here with ENOSPC, as on a full bank), the create removes what it
// wrote: no index.json left in progress, no index key, no checkpoint
// folder. (A failing index.json write: TestFullBank.)
func TestFailedCreateWritesNothing(t *testing.T) {
	for okWrites, name := range []string{"", "by-provider", "by-date", "by-plan"} {
		if okWrites == 0 {
			continue
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			wrapped := &banktest.Plugin{Plugin: openFS(t, dir), FailWith: syscall.ENOSPC}
			cps := bank.NewCheckpoints(bank.New(wrapped), bank.WithIDGenerator(fixedIDs(specID)))
			wrapped.FailPutsAfter.Store(int64(okWrites))
			_, err := cps.Create(context.Background(), specPlan())
			require.ErrorIs(t, err, syscall.ENOSPC)
			_, err = cps.Get(context.Background(), specID)
			require.ErrorIs(t, err, bank.ErrCheckpointNotFound)
			container := filepath.Join(dir, "karbor")
			assert.Empty(t, containerFiles(t, container))
			for _, d := range containerDirs(t, container) {
				assert.False(t, strings.HasPrefix(d, "checkpoints/"), "folder %s left", d)
			}
		})
	}
	t.Run("undo fails too", func(t *testing.T) {
		// Nothing can be removed or written any more: the error says so,
		// and the checkpoint is this instance's, for recovery to fail once
		// this instance is gone.
		wrapped := &banktest.Plugin{Plugin: openFS(t, t.TempDir())}
		cps := bank.NewCheckpoints(bank.New(wrapped), bank.WithIDGenerator(fixedIDs(specID)))
		wrapped.FailPutsAfter.Store(2)
		wrapped.FailDeletes.Store(true)
		_, err := cps.Create(context.Background(), specPlan())
		require.ErrorIs(t, err, banktest.ErrCrash)
		assert.ErrorContains(t, err, "undo the failed create of checkpoint "+specID)
	})
}

// TestOverlongIDs: a provider, project or plan id longer than one key
// element may hold is refused before anything is written; listing by one
// finds nothing.
func TestOverlongIDs(t *testing.T) {
	long := strings.Repeat("p", 300)
	for _, tc := range []struct {
		name string
		mod  func(n *bank.NewCheckpoint)
	}{
		{"plan id", func(n *bank.NewCheckpoint) { n.Plan.ID = long }},
		{"project id", func(n *bank.NewCheckpoint) { n.ProjectID = long }},
		{"provider id", func(n *bank.NewCheckpoint) { n.Plan.ProviderID = long }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, dir := newBank(t)
			cps := bank.NewCheckpoints(b)
			n := specPlan()
			tc.mod(&n)
			_, err := cps.Create(context.Background(), n)
			var ik *bank.InvalidKeyError
			require.ErrorAs(t, err, &ik)
			assert.Contains(t, ik.Reason, "is 300 bytes long; a bank key element holds at most 255")
			assert.Empty(t, containerFiles(t, filepath.Join(dir, "karbor")))
			assert.Empty(t, containerDirs(t, filepath.Join(dir, "karbor")))
		})
	}
	b, _ := newBank(t)
	cps := bank.NewCheckpoints(b)
	for _, q := range []bank.ListQuery{
		{ProviderID: specProvider, ProjectID: specProject, PlanID: long},
		{ProviderID: specProvider, ProjectID: long},
		{ProviderID: long, ProjectID: specProject},
	} {
		ids, err := cps.ListIDs(context.Background(), q)
		require.NoError(t, err)
		assert.Empty(t, ids)
	}
	n := specPlan()
	n.Plan.ID = strings.Repeat("p", 255)
	_, err := cps.Create(context.Background(), n)
	require.NoError(t, err, "255 bytes fit")
}

// TestFullBank runs a checkpoint's life on a real, full tmpfs: a create
// fails and leaves nothing; status changes of an existing checkpoint still
// work (its index.json is rewritten in place); a delete goes through to
// deleted, freeing its index keys.
func TestFullBank(t *testing.T) {
	mnt := fstest.Tmpfs(t, 512<<10)
	dir := filepath.Join(mnt, "bank")
	cps := bank.NewCheckpoints(bank.New(openFS(t, dir)))
	ctx := context.Background()
	protecting, err := cps.Create(ctx, specPlan())
	require.NoError(t, err)
	available, err := cps.Create(ctx, specPlan())
	require.NoError(t, err)
	_, err = cps.SetResourceGraph(ctx, available.ID, specGraph)
	require.NoError(t, err)
	_, err = cps.SetStatus(ctx, available.ID, bank.StatusAvailable)
	require.NoError(t, err)
	fstest.Fill(t, mnt)

	before := containerDirs(t, filepath.Join(dir, "karbor"))
	_, err = cps.Create(ctx, specPlan())
	require.ErrorIs(t, err, syscall.ENOSPC)
	assert.Equal(t, before, containerDirs(t, filepath.Join(dir, "karbor")), "no folder left by the failed create")

	cp, err := cps.SetStatus(ctx, protecting.ID, bank.StatusError)
	require.NoError(t, err, "a protect that hits the full bank still ends in error")
	assert.Equal(t, bank.StatusError, cp.Status)

	for _, id := range []string{protecting.ID, available.ID} {
		_, err = cps.BeginDelete(ctx, id)
		require.NoError(t, err)
		_, err = cps.Delete(ctx, id)
		require.NoError(t, err)
		got, err := cps.Get(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, bank.StatusDeleted, got.Status)
	}
	ids, err := cps.ListIDs(ctx, bank.ListQuery{ProviderID: specProvider, ProjectID: specProject})
	require.NoError(t, err)
	assert.Empty(t, ids)
}
