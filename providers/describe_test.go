package providers_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers"
)

func TestDescribeFlow(t *testing.T) {
	ctx, _ := quiet(t)
	dir := t.TempDir()
	bankDir := filepath.Join(t.TempDir(), "bank")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "noop.conf"),
		[]byte(providerFile("prov-noop", "Noop", []string{"karbor-noop-protection-plugin"}, bankDir, "")), 0o644))
	opts := providers.Options{Dir: dir}
	g := world()
	plan := planOf(g, "prov-noop")
	rc := &karbor.RequestContext{ProjectID: "project-1", UserID: "u"}
	for _, tc := range []struct {
		op   providers.Op
		name string
	}{
		{providers.OpProtect, "Protect_plan-1"},
		{providers.OpRestore, "Restore_cp-1"},
		{providers.OpVerify, "Verify_cp-1"},
		{providers.OpDelete, "Delete_Checkpoint_cp-1"},
		{providers.OpCopy, "Copy_plan-1cp-1"},
	} {
		t.Run(string(tc.op), func(t *testing.T) {
			c, err := providers.DescribeFlow(ctx, opts, fixedGraph(g), rc, tc.op, plan, "cp-1", "cp-2")
			require.NoError(t, err)
			assert.Equal(t, tc.name, c.Name())
			assert.Equal(t, 6*4+2, c.Len(), "four hooks for each of the six resources, Initiate and Complete")
		})
	}
	_, err := os.Stat(bankDir)
	assert.True(t, errors.Is(err, os.ErrNotExist), "no bank was opened")

	other := *plan
	other.ProviderID = "prov-unknown"
	_, err = providers.DescribeFlow(ctx, opts, fixedGraph(g), rc, providers.OpProtect, &other, "cp-1", "cp-2")
	assert.True(t, errors.Is(err, karbor.ExcProviderNotFound), "%v", err)
	_, err = providers.DescribeFlow(ctx, opts, fixedGraph(g), rc, providers.Op("bogus"), plan, "cp-1", "cp-2")
	assert.Error(t, err)
	_, err = providers.DescribeFlow(ctx, providers.Options{Dir: filepath.Join(dir, "missing")}, fixedGraph(g), rc, providers.OpProtect, plan, "cp-1", "cp-2")
	assert.True(t, errors.Is(err, karbor.ExcConfigNotFound), "%v", err)
}
