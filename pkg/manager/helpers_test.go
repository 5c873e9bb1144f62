package manager

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/require"

	_ "github.com/gokarbor/karbor-protection/bank/fs"
	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/db"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/graph"
	_ "github.com/gokarbor/karbor-protection/providers/noop"
	"github.com/gokarbor/karbor-protection/providers/protectables"
	_ "github.com/gokarbor/karbor-protection/providers/protectables/openstack"
	"github.com/gokarbor/karbor-protection/rpc"
)

const (
	noopID   = "b766f37c-d011-4026-8228-28730d734a3f"
	gateID   = "9a5a8c3c-0000-4000-8000-00000000a7e1"
	projectA = "f0e1d2c3-b4a5-4678-9abc-def012345678" // the recorded session's project
	projectB = "0b0b0b0b-b4a5-4678-9abc-def012345678"
)

// The gate plugin is a protection plugin of the test binary only: its
// protect hook waits until the test opens the gate (or the operation is
// cancelled), so a test can hold an operation running.
const gatePluginName = "manager-test-gate-plugin"

var gates sync.Map // name → *gate

type gate struct {
	open    chan struct{}
	once    sync.Once
	started chan string // resource ids whose protect hook is waiting
}

// release opens the gate for good.
func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

func newGate() *gate { return &gate{open: make(chan struct{}), started: make(chan string, 100)} }

func init() {
	providers.Register(gatePluginName, func(_ context.Context, conf, _ *config.Config) (providers.ProtectionPlugin, error) {
		name, _ := conf.Get("gate_plugin", "name")
		g, ok := gates.Load(name)
		if !ok {
			return nil, fmt.Errorf("no gate %q", name)
		}
		return gatePlugin{g.(*gate)}, nil
	})
}

type gatePlugin struct{ g *gate }

func (gatePlugin) ResourceTypes() []string { return karbor.ResourceTypes() }

func (gatePlugin) Schemas(string) providers.Schemas { return providers.Schemas{} }

func (p gatePlugin) Hooks(op providers.Op, r graph.Resource) (providers.Hooks, error) {
	if op != providers.OpProtect {
		return providers.BaseHooks{}, nil
	}
	return gateHooks{g: p.g}, nil
}

type gateHooks struct {
	providers.BaseHooks
	g *gate
}

func (h gateHooks) OnMain(ctx context.Context, a *providers.HookArgs) error {
	h.g.started <- a.Resource.ID
	select {
	case <-h.g.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// env is a manager over a temporary file-system bank with the noop provider
// (and, if asked, the gate provider), its operation pool running until the test ends.
type env struct {
	m    *Manager
	reg  *providers.Registry
	rec  *db.Memory
	gate *gate
	bank string // the file_system_bank_path of both providers
	stop func() // stops Run and waits for it (also done at cleanup)
}

type envOptions struct {
	maxOps   int
	grace    time.Duration
	recovery time.Duration
	bankDir  string
	gate     bool // also load the gate provider (gateID)
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	ctx := quietContext()
	dir := t.TempDir()
	if o.bankDir == "" {
		o.bankDir = filepath.Join(dir, "bank")
	}
	g := newGate()
	gates.Store(t.Name(), g)
	t.Cleanup(func() { gates.Delete(t.Name()) })
	provDir := filepath.Join(dir, "providers.d")
	require.NoError(t, os.MkdirAll(provDir, 0o755))
	write := func(name, text string) {
		require.NoError(t, os.WriteFile(filepath.Join(provDir, name), []byte(text), 0o644))
	}
	write("noop.conf", providerFile(noopID, "No-Op Provider", "karbor-noop-protection-plugin", o.bankDir, ""))
	want := 1
	if o.gate {
		write("gate.conf", providerFile(gateID, "Gate", gatePluginName, o.bankDir, "\n[gate_plugin]\nname = "+t.Name()+"\n"))
		want++
	}
	reg, err := providers.Load(ctx, providers.Options{Dir: provDir})
	require.NoError(t, err)
	require.Len(t, reg.Providers(), want)
	rec := db.NewMemory()
	m, err := New(Config{
		Providers:               reg,
		Protectables:            protectables.Load(ctx, nil),
		Builder:                 providers.NewBuilder(protectables.Load(ctx, nil), rec),
		MaxConcurrentOperations: o.maxOps,
		GracePeriod:             o.grace,
		RecoveryInterval:        o.recovery,
		Log:                     logctx.From(ctx),
	})
	require.NoError(t, err)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(runCtx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
		})
	}
	t.Cleanup(func() {
		g.release() // let held operations finish, then stop
		stop()
		require.NoError(t, reg.Close())
	})
	return &env{m: m, reg: reg, rec: rec, gate: g, bank: o.bankDir, stop: stop}
}

func providerFile(id, name, plugin, bankDir, extra string) string {
	return `[provider]
name = ` + name + `
description = This provider does nothing for each protect and restore operation. Used for testing
id = ` + id + `

plugin=` + plugin + `
bank=karbor-fs-bank-plugin

enabled=True

[file_system_bank_plugin]
file_system_bank_path = ` + bankDir + `
` + extra
}

func quietContext() context.Context {
	l, _ := test.NewNullLogger()
	l.SetLevel(logrus.DebugLevel)
	return logctx.With(context.Background(), logrus.NewEntry(l))
}

// outcome is a method's reply: its JSON result, or the failure.
type outcome struct {
	Result json.RawMessage
	Err    error
}

// call runs one RPC method as the dispatcher would, with the request
// context reqCtx (a context dict as the API sends it).
func (e *env) call(t *testing.T, method string, reqCtx map[string]any, args map[string]any) outcome {
	t.Helper()
	return callManager(t, e.m, method, reqCtx, args)
}

func callManager(t testing.TB, m *Manager, method string, reqCtx map[string]any, args map[string]any) outcome {
	t.Helper()
	var h rpc.HandlerFunc
	for _, mt := range m.methods {
		if mt.name == method {
			h = mt.handler
		}
	}
	require.NotNil(t, h, "no method %s", method)
	call := &rpc.Call{Method: method, Class: Class}
	for k, v := range reqCtx {
		raw, err := json.Marshal(v)
		require.NoError(t, err)
		call.Context = append(call.Context, rpc.ContextMember{Key: k, Value: raw})
	}
	raw, err := json.Marshal(args)
	require.NoError(t, err)
	if args == nil {
		raw = []byte("{}")
	}
	call.Args = raw
	res, err := h(quietContext(), call)
	if err != nil {
		return outcome{Err: err}
	}
	out, err := rpc.EncodeJSON(res) // as the server encodes a result
	require.NoError(t, err)
	return outcome{Result: out}
}

// requireOK returns the result of a call that must succeed.
func requireOK(t testing.TB, o outcome) json.RawMessage {
	t.Helper()
	require.NoError(t, o.Err)
	return o.Result
}

// face is the Python face of a failure: module.Class and str().
func face(t testing.TB, o outcome) (class, message string) {
	t.Helper()
	require.Error(t, o.Err, "expected a failure, got %s", o.Result)
	re, ok := o.Err.(rpc.RemoteException)
	require.True(t, ok, "failure %T %v has no Python face", o.Err, o.Err)
	return re.PythonModule() + "." + re.PythonClass(), re.Error()
}

// memberOf is the request context of a member of project (the recorded
// session's context, with that project).
func memberOf(project string) map[string]any {
	return map[string]any{
		"user_id": "a1b2c3d4-e5f6-4789-8abc-0123456789ab", "project_id": project, "project_name": "demo",
		"is_admin": false, "roles": []string{"member"}, "request_id": "req-611b8236-8364-4bb7-bea5-7fccf9816554",
		"read_deleted": "no", "auth_token": "fake-token", "timestamp": "2026-11-22T01:57:50.245873",
	}
}

func admin(project string) map[string]any {
	c := memberOf(project)
	c["is_admin"] = true
	c["roles"] = []string{"admin", "member"}
	return c
}

// planPrimitive is a Plan primitive as the API sends it, with n resources
// of the given type (alternating volumes and servers when typ is "").
func planPrimitive(planID, providerID, project string, n int, typ string) map[string]any {
	res := make([]map[string]any, n)
	for i := range res {
		t := typ
		if t == "" {
			t = []string{karbor.VolumeResourceType, karbor.ServerResourceType}[i%2]
		}
		res[i] = map[string]any{"id": fmt.Sprintf("00000000-0000-4000-8000-%012d", i), "type": t, "name": fmt.Sprintf("res-%d", i), "extra_info": nil}
	}
	return map[string]any{
		"karbor_object.name": "Plan", "karbor_object.namespace": "karbor", "karbor_object.version": "1.0",
		"karbor_object.data": map[string]any{
			"id": planID, "name": "plan", "description": nil, "provider_id": providerID, "project_id": project,
			"status": "suspended", "resources": res, "parameters": map[string]any{},
		},
	}
}

func properties(project, providerID string) map[string]any {
	return map[string]any{"project_id": project, "status": "protecting", "provider_id": providerID, "extra_info": `{"created_by": "manual"}`}
}

// targetPrimitive is a Restore or Verification primitive.
func targetPrimitive(class, providerID, checkpointID, project string, params map[string]any) map[string]any {
	data := map[string]any{
		"id": "800fe32c-c20a-4e5f-a776-6b89bab80234", "project_id": project, "provider_id": providerID,
		"checkpoint_id": checkpointID, "parameters": params, "status": "in_progress",
		"resources_status": map[string]any{}, "resources_reason": map[string]any{},
		"created_at": "2026-11-22T01:57:50Z", "updated_at": nil, "deleted_at": nil, "deleted": false,
	}
	if class == "Restore" {
		data["restore_target"] = nil
	}
	return map[string]any{"karbor_object.name": class, "karbor_object.namespace": "karbor", "karbor_object.version": "1.0", "karbor_object.data": data}
}

// protect protects a plan of n resources for project and returns the
// checkpoint id.
func (e *env) protect(t *testing.T, providerID, project string, n int) string {
	t.Helper()
	res := requireOK(t, e.call(t, "protect", memberOf(project), map[string]any{
		"plan": planPrimitive("632d8f7d-e2c3-4f31-82ea-900d8afb9880", providerID, project, n, ""), "checkpoint_properties": properties(project, providerID),
	}))
	var id string
	require.NoError(t, json.Unmarshal(res, &id))
	return id
}

// status reads a checkpoint's status through show_checkpoint as an admin.
func (e *env) status(t *testing.T, providerID, id string) string {
	t.Helper()
	var cp struct{ Status string }
	require.NoError(t, json.Unmarshal(requireOK(t, e.call(t, "show_checkpoint", admin(projectA), map[string]any{"provider_id": providerID, "checkpoint_id": id})), &cp))
	return cp.Status
}

func (e *env) waitStatus(t *testing.T, providerID, id, want string) {
	t.Helper()
	require.Eventually(t, func() bool { return e.status(t, providerID, id) == want }, 10*time.Second, 2*time.Millisecond,
		"checkpoint %s never became %s (is %s)", id, want, e.status(t, providerID, id))
}
