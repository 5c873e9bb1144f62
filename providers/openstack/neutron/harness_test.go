package neutron_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gokarbor/karbor-protection/providers/providerstest"

	"github.com/google/uuid"
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
	"github.com/gokarbor/karbor-protection/providers/openstack/neutron"
)

const providerID = "cf56bd3e-97a7-4078-b6d5-f36246333fd9"

// probeType is the resource type of the probe: a test plugin whose
// resource depends on the topology and which records, once the topology's
// restore completed, what the restore recorded in new_resources (as a
// server restored with its network would read it).
const (
	probeType   = "OS::Nova::Server"
	probePlugin = "karbor-test-neutron-probe"
)

var probes sync.Map // restore id → map[string]string

func init() {
	providers.Register(probePlugin, func(context.Context, *config.Config, *config.Config) (providers.ProtectionPlugin, error) {
		return probe{}, nil
	})
}

type probe struct{}

func (probe) ResourceTypes() []string          { return []string{probeType} }
func (probe) Schemas(string) providers.Schemas { return providers.Schemas{} }
func (probe) Hooks(op providers.Op, _ graph.Resource) (providers.Hooks, error) {
	return probeHooks{}, nil
}

type probeHooks struct{ providers.BaseHooks }

func (probeHooks) OnComplete(_ context.Context, a *providers.HookArgs) error {
	if a.Restore != nil {
		probes.Store(a.Restore.ID, a.NewResources.Map())
	}
	return nil
}

// env is a provider of the network plugin (and the probe) over a
// file-system bank.
type env struct {
	ctx context.Context
	p   *providers.Provider
	rc  *karbor.RequestContext
	log *logtest.Hook
}

// newEnv loads the provider with the provider-file lines extra (the
// plugin's options) and karbor.conf text service.
func newEnv(t *testing.T, extra, service string, rc *karbor.RequestContext) *env {
	t.Helper()
	logger, hook := logtest.NewNullLogger()
	ctx := logctx.With(context.Background(), logrus.NewEntry(logger))
	dir := t.TempDir()
	provDir := filepath.Join(dir, "providers.d")
	require.NoError(t, os.MkdirAll(provDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(provDir, "network.conf"), []byte(`[provider]
name = Network
id = `+providerID+`
plugin = `+neutron.PluginName+`
plugin = `+probePlugin+`
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
	return &env{ctx: ctx, p: p, rc: rc, log: hook}
}

// topologyNode is the project's topology.
func (e *env) topology() graph.Resource {
	return graph.Resource{Type: karbor.NetworkResourceType, ID: e.rc.ProjectID, Name: "Network Topology"}
}

// graph is the topology under the probe.
func (e *env) graph() graph.Graph {
	return graph.Graph{&graph.Node{Resource: graph.Resource{Type: probeType, ID: "probe", Name: "probe"},
		Children: []*graph.Node{{Resource: e.topology()}}}}
}

// protect protects the topology and returns the checkpoint as it ended and
// the operation's error.
func (e *env) protect(t *testing.T) (*bank.Checkpoint, error) {
	t.Helper()
	plan := &karbor.Plan{ID: "632d8f7d-e2c3-4f31-82ea-900d8afb9880", Name: "plan", ProviderID: providerID, ProjectID: e.rc.ProjectID,
		Resources: []karbor.PlanResource{{ID: e.rc.ProjectID, Type: karbor.NetworkResourceType, Name: "Network Topology"}}}
	op, id, err := providers.NewBuilder(providerstest.FixedGraph(e.graph()), db.NewMemory()).BuildProtect(e.ctx, e.rc, e.p, plan, providers.CheckpointProperties{})
	require.NoError(t, err)
	runErr := op.Run(e.ctx)
	cp, err := e.p.Checkpoints().Get(e.ctx, id)
	require.NoError(t, err)
	return cp, runErr
}

// section is the topology's section of the checkpoint.
func (e *env) section(t *testing.T, cp *bank.Checkpoint) *bank.Section {
	t.Helper()
	sec, err := e.p.Checkpoints().ResourceSection(cp.ID, e.rc.ProjectID, true)
	require.NoError(t, err)
	return sec
}

// read reads a key of the topology's section ("<error>" when it fails).
func (e *env) read(t *testing.T, cp *bank.Checkpoint, key string) string {
	t.Helper()
	b, err := e.section(t, cp).Get(e.ctx, key)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// restored is what a restore left.
type restored struct {
	trail *providerstest.Trail
	row   db.TargetRecord
	err   error
	// newResources is new_resources as the probe saw it.
	newResources map[string]string
}

// restore restores the checkpoint with params.
func (e *env) restore(t *testing.T, cp *bank.Checkpoint, params map[string]string) restored {
	t.Helper()
	rec := providerstest.NewTrail()
	r := &karbor.Restore{ID: uuid.NewString(), ProjectID: e.rc.ProjectID, ProviderID: providerID,
		CheckpointID: cp.ID, Status: karbor.RestoreStatusInProgress, Parameters: karbor.Parameters{karbor.NetworkResourceType: params}}
	op, err := providers.NewBuilder(providerstest.FixedGraph(e.graph()), rec).BuildRestore(e.ctx, e.rc, e.p, r, cp)
	require.NoError(t, err)
	runErr := op.Run(e.ctx)
	row, ok := rec.Memory.Restore(r.ID)
	require.True(t, ok)
	out := restored{trail: rec, row: row, err: runErr}
	if m, ok := probes.LoadAndDelete(r.ID); ok {
		out.newResources = m.(map[string]string)
	}
	return out
}

// verify verifies the checkpoint.
func (e *env) verify(t *testing.T, cp *bank.Checkpoint) (*providerstest.Trail, db.TargetRecord, error) {
	t.Helper()
	rec := providerstest.NewTrail()
	v := &karbor.Verification{ID: "a80b2ec0-a195-4540-aeb5-fbbbde33719e", ProjectID: e.rc.ProjectID, ProviderID: providerID,
		CheckpointID: cp.ID, Status: karbor.VerificationStatusInProgress}
	op, err := providers.NewBuilder(providerstest.FixedGraph(e.graph()), rec).BuildVerify(e.ctx, e.rc, e.p, v, cp)
	require.NoError(t, err)
	runErr := op.Run(e.ctx)
	row, ok := rec.Memory.Verification(v.ID)
	require.True(t, ok)
	return rec, row, runErr
}

// delete deletes the checkpoint; it returns the operation's error.
func (e *env) delete(t *testing.T, cp *bank.Checkpoint) error {
	t.Helper()
	cp, err := e.p.Checkpoints().BeginDelete(e.ctx, cp.ID)
	require.NoError(t, err)
	op, err := providers.NewBuilder(providerstest.FixedGraph(e.graph()), db.NewMemory()).BuildDelete(e.ctx, e.rc, e.p, cp)
	require.NoError(t, err)
	return op.Run(e.ctx)
}
