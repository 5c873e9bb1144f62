package nova_test

import (
	"context"
	"errors"
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
	_ "github.com/gokarbor/karbor-protection/providers/openstack/nova"
)

const providerID = "cf56bd3e-97a7-4078-b6d5-f36246333fd9"

// dependentsPlugin stands for the volume and image plugins in the unit
// tests: protect does nothing, and restore records each resource as
// restored to "restored-<id>", except the one [test_dependents] skip
// names (a dependent that was not restored).
const dependentsPlugin = "karbor-test-server-dependents"

const restoredPrefix = "restored-"

func init() {
	providers.Register(dependentsPlugin, func(_ context.Context, conf, _ *config.Config) (providers.ProtectionPlugin, error) {
		skip, err := conf.String("test_dependents", "skip", "")
		return dependents{skip: skip}, err
	})
}

type dependents struct{ skip string }

func (dependents) ResourceTypes() []string {
	return []string{karbor.VolumeResourceType, karbor.ImageResourceType}
}

func (dependents) Schemas(string) providers.Schemas { return providers.Schemas{} }

func (d dependents) Hooks(op providers.Op, _ graph.Resource) (providers.Hooks, error) {
	if op == providers.OpRestore {
		return restored{skip: d.skip}, nil
	}
	return nil, nil
}

type restored struct {
	providers.BaseHooks
	skip string
}

func (r restored) OnMain(_ context.Context, a *providers.HookArgs) error {
	if a.Resource.ID != r.skip {
		a.NewResources.Set(a.Resource.ID, restoredPrefix+a.Resource.ID)
	}
	return nil
}

// of returns the statuses and reasons r kept for one resource type.
func of(r *providerstest.Trail, typ string) (statuses, reasons []string) {
	for _, res := range r.Results() {
		if res.Type != typ {
			continue
		}
		statuses = append(statuses, res.Status)
		why := ""
		if res.Reason != nil {
			why = *res.Reason
		}
		reasons = append(reasons, why)
	}
	return statuses, reasons
}

// env is a provider of the server plugin and the stand-in of its
// dependents' plugins over a file-system bank.
type env struct {
	ctx context.Context
	p   *providers.Provider
	rc  *karbor.RequestContext
	log *logtest.Hook
	// planParams are the plan's parameters of each type.
	planParams karbor.Parameters
}

// newEnv loads the provider with the provider-file lines extra and the
// karbor.conf text service; plugins are the provider's plugin lines.
func newEnv(t *testing.T, plugins []string, extra, service string, rc *karbor.RequestContext) *env {
	t.Helper()
	logger, hook := logtest.NewNullLogger()
	ctx := logctx.With(context.Background(), logrus.NewEntry(logger))
	dir := t.TempDir()
	provDir := filepath.Join(dir, "providers.d")
	require.NoError(t, os.MkdirAll(provDir, 0o755))
	lines := ""
	for _, p := range plugins {
		lines += "plugin = " + p + "\n"
	}
	require.NoError(t, os.WriteFile(filepath.Join(provDir, "nova.conf"), []byte(`[provider]
name = Nova
id = `+providerID+`
`+lines+`bank = karbor-fs-bank-plugin
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

// serverGraph is a server with its dependents.
func serverGraph(server string, children ...graph.Resource) graph.Graph {
	n := &graph.Node{Resource: graph.Resource{Type: karbor.ServerResourceType, ID: server, Name: "server"}}
	for _, c := range children {
		n.Children = append(n.Children, &graph.Node{Resource: c})
	}
	return graph.Graph{n}
}

func volume(id string) graph.Resource {
	return graph.Resource{Type: karbor.VolumeResourceType, ID: id, Name: "volume"}
}

func image(id string) graph.Resource {
	return graph.Resource{Type: karbor.ImageResourceType, ID: id, Name: "image"}
}

// protect protects the graph's server and returns the checkpoint as it
// ended and the operation's error.
func (e *env) protect(t *testing.T, ctx context.Context, g graph.Graph) (*bank.Checkpoint, error) {
	t.Helper()
	srv := g[0].Resource
	plan := &karbor.Plan{ID: "632d8f7d-e2c3-4f31-82ea-900d8afb9880", Name: "plan", ProviderID: providerID, ProjectID: e.rc.ProjectID,
		Resources: []karbor.PlanResource{{ID: srv.ID, Type: srv.Type, Name: srv.Name}}, Parameters: e.planParams}
	op, id, err := providers.NewBuilder(providerstest.FixedGraph(g), db.NewMemory()).BuildProtect(e.ctx, e.rc, e.p, plan, providers.CheckpointProperties{})
	require.NoError(t, err)
	runErr := op.Run(ctx)
	cp, err := e.p.Checkpoints().Get(e.ctx, id)
	require.NoError(t, err)
	return cp, runErr
}

// section reads a key of a resource's section of the checkpoint.
func (e *env) section(t *testing.T, cp *bank.Checkpoint, id, key string) string {
	t.Helper()
	sec, err := e.p.Checkpoints().ResourceSection(cp.ID, id, false)
	require.NoError(t, err)
	b, err := sec.Get(e.ctx, key)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// missing reports whether a key of a resource's section is absent.
func (e *env) missing(t *testing.T, cp *bank.Checkpoint, id, key string) bool {
	t.Helper()
	sec, err := e.p.Checkpoints().ResourceSection(cp.ID, id, false)
	require.NoError(t, err)
	_, err = sec.Get(e.ctx, key)
	return errors.Is(err, bank.ErrNotFound)
}

// restore restores the checkpoint with the server's params; it returns the
// trail, the restore's row and the operation's error.
func (e *env) restore(t *testing.T, ctx context.Context, cp *bank.Checkpoint, params map[string]string) (*providerstest.Trail, db.TargetRecord, error) {
	t.Helper()
	return e.restoreWith(t, ctx, cp, karbor.Parameters{karbor.ServerResourceType: params})
}

// restoreWith restores the checkpoint with the parameters of every type.
func (e *env) restoreWith(t *testing.T, ctx context.Context, cp *bank.Checkpoint, params karbor.Parameters) (*providerstest.Trail, db.TargetRecord, error) {
	t.Helper()
	rec := providerstest.NewTrail()
	r := &karbor.Restore{ID: "800fe32c-c20a-4e5f-a776-6b89bab80234", ProjectID: e.rc.ProjectID, ProviderID: providerID,
		CheckpointID: cp.ID, Status: karbor.RestoreStatusInProgress, Parameters: params}
	op, err := providers.NewBuilder(nil, rec).BuildRestore(e.ctx, e.rc, e.p, r, cp)
	require.NoError(t, err)
	runErr := op.Run(ctx)
	row, ok := rec.Memory.Restore(r.ID)
	require.True(t, ok)
	return rec, row, runErr
}

// verify verifies the checkpoint.
func (e *env) verify(t *testing.T, cp *bank.Checkpoint) (*providerstest.Trail, db.TargetRecord, error) {
	t.Helper()
	rec := providerstest.NewTrail()
	v := &karbor.Verification{ID: "a80b2ec0-a195-4540-aeb5-fbbbde33719e", ProjectID: e.rc.ProjectID, ProviderID: providerID,
		CheckpointID: cp.ID, Status: karbor.VerificationStatusInProgress}
	op, err := providers.NewBuilder(nil, rec).BuildVerify(e.ctx, e.rc, e.p, v, cp)
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
	op, err := providers.NewBuilder(nil, db.NewMemory()).BuildDelete(e.ctx, e.rc, e.p, cp)
	require.NoError(t, err)
	return op.Run(e.ctx)
}

// last is the last status set ("" for none).
func last(statuses []string) string {
	if len(statuses) == 0 {
		return ""
	}
	return statuses[len(statuses)-1]
}
