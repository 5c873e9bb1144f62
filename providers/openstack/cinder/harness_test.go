package cinder_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gokarbor/karbor-protection/providers/providerstest"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	_ "github.com/gokarbor/karbor-protection/bank/fs"
	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/db"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/graph"
	_ "github.com/gokarbor/karbor-protection/providers/openstack/cinder"
)

const providerID = "cf56bd3e-97a7-4078-b6d5-f36246333fd9"

// env is a provider of one Cinder plugin over a file-system bank.
type env struct {
	ctx  context.Context
	p    *providers.Provider
	rc   *karbor.RequestContext
	bank string
	log  *logtest.Hook
}

// newEnv loads a provider of plugin with the provider-file lines extra
// (its options) and karbor.conf text service.
func newEnv(t testing.TB, plugin, extra, service string, rc *karbor.RequestContext) *env {
	t.Helper()
	logger, hook := logtest.NewNullLogger()
	ctx := logctx.With(context.Background(), logrus.NewEntry(logger))
	dir := t.TempDir()
	provDir := filepath.Join(dir, "providers.d")
	require.NoError(t, os.MkdirAll(provDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(provDir, "cinder.conf"), []byte(`[provider]
name = Cinder
id = `+providerID+`
plugin = `+plugin+`
bank = karbor-fs-bank-plugin
enabled = True

[file_system_bank_plugin]
file_system_bank_path = `+filepath.Join(dir, "bank")+`

`+extra), 0o644))
	f, err := config.ParseFile("karbor.conf", []byte(service))
	require.NoError(t, err)
	reg, err := providers.Load(ctx, providers.Options{Dir: provDir, Service: config.New(config.KarborRegistry(), []*config.File{f}, nil)})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, reg.Close()) })
	p, err := reg.Show(providerID)
	require.NoError(t, err)
	return &env{ctx: ctx, p: p, rc: rc, bank: filepath.Join(dir, "bank"), log: hook}
}

// volumeGraph is a graph of independent volumes.
func volumeGraph(ids ...string) graph.Graph {
	g := make(graph.Graph, len(ids))
	for i, id := range ids {
		g[i] = &graph.Node{Resource: graph.Resource{Type: karbor.VolumeResourceType, ID: id, Name: "vol"}}
	}
	return g
}

// protect protects the volume with the given parameters and returns the
// checkpoint as it ended and the operation's error.
func (e *env) protect(t testing.TB, vol string, params map[string]string) (*bank.Checkpoint, error) {
	t.Helper()
	return e.protectAll(t, []string{vol}, params)
}

// protectAll protects a plan of the volumes, each with params.
func (e *env) protectAll(t testing.TB, vols []string, params map[string]string) (*bank.Checkpoint, error) {
	t.Helper()
	plan := &karbor.Plan{ID: "632d8f7d-e2c3-4f31-82ea-900d8afb9880", Name: "plan", ProviderID: providerID, ProjectID: e.rc.ProjectID,
		Parameters: karbor.Parameters{karbor.VolumeResourceType: params}}
	for _, vol := range vols {
		plan.Resources = append(plan.Resources, karbor.PlanResource{ID: vol, Type: karbor.VolumeResourceType, Name: "vol"})
	}
	op, id, err := providers.NewBuilder(providerstest.FixedGraph(volumeGraph(vols...)), db.NewMemory()).BuildProtect(e.ctx, e.rc, e.p, plan, providers.CheckpointProperties{})
	require.NoError(t, err)
	runErr := op.Run(e.ctx)
	cp, err := e.p.Checkpoints().Get(e.ctx, id)
	require.NoError(t, err)
	return cp, runErr
}

// section reads a key of the volume's section of the checkpoint.
func (e *env) section(t testing.TB, cp *bank.Checkpoint, vol, key string) string {
	t.Helper()
	sec, err := e.p.Checkpoints().ResourceSection(cp.ID, vol, false)
	require.NoError(t, err)
	b, err := sec.Get(e.ctx, key)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// restore restores the checkpoint with params; it returns the trail, the
// restore's row and the operation's error.
func (e *env) restore(t testing.TB, cp *bank.Checkpoint, vol string, params map[string]string) (*providerstest.Trail, db.TargetRecord, error) {
	t.Helper()
	rec := providerstest.NewTrail()
	r := &karbor.Restore{ID: "800fe32c-c20a-4e5f-a776-6b89bab80234", ProjectID: e.rc.ProjectID, ProviderID: providerID,
		CheckpointID: cp.ID, Status: karbor.RestoreStatusInProgress, Parameters: karbor.Parameters{karbor.VolumeResourceType: params}}
	op, err := providers.NewBuilder(providerstest.FixedGraph(volumeGraph(vol)), rec).BuildRestore(e.ctx, e.rc, e.p, r, cp)
	require.NoError(t, err)
	runErr := op.Run(e.ctx)
	row, ok := rec.Memory.Restore(r.ID)
	require.True(t, ok)
	return rec, row, runErr
}

// verify verifies the checkpoint.
func (e *env) verify(t testing.TB, cp *bank.Checkpoint, vol string) (*providerstest.Trail, db.TargetRecord, error) {
	t.Helper()
	rec := providerstest.NewTrail()
	v := &karbor.Verification{ID: "a80b2ec0-a195-4540-aeb5-fbbbde33719e", ProjectID: e.rc.ProjectID, ProviderID: providerID,
		CheckpointID: cp.ID, Status: karbor.VerificationStatusInProgress}
	op, err := providers.NewBuilder(providerstest.FixedGraph(volumeGraph(vol)), rec).BuildVerify(e.ctx, e.rc, e.p, v, cp)
	require.NoError(t, err)
	runErr := op.Run(e.ctx)
	row, ok := rec.Memory.Verification(v.ID)
	require.True(t, ok)
	return rec, row, runErr
}

// delete deletes the checkpoint of the volumes; it returns the operation's
// error.
func (e *env) delete(t testing.TB, cp *bank.Checkpoint, vols ...string) error {
	t.Helper()
	cp, err := e.p.Checkpoints().BeginDelete(e.ctx, cp.ID)
	require.NoError(t, err)
	op, err := providers.NewBuilder(providerstest.FixedGraph(volumeGraph(vols...)), db.NewMemory()).BuildDelete(e.ctx, e.rc, e.p, cp)
	require.NoError(t, err)
	return op.Run(e.ctx)
}
