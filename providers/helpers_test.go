package providers_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	_ "github.com/gokarbor/karbor-protection/bank/fs"
	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/graph"
	_ "github.com/gokarbor/karbor-protection/providers/noop"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// golden compares got with testdata/golden/<name>, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	require.Equal(t, string(want), string(got))
}

// quiet returns a context whose log lines go to a test hook.
func quiet(t testing.TB) (context.Context, *test.Hook) {
	t.Helper()
	l, hook := test.NewNullLogger()
	l.SetLevel(logrus.DebugLevel)
	return logctx.With(context.Background(), logrus.NewEntry(l)), hook
}

// events is a shared, ordered log of what happened during a run: hook calls
// and recorder calls, each with its sequence number.
type events struct {
	mu  sync.Mutex
	seq int
	all []event
}

type event struct {
	seq    int
	kind   string // "hook", "op-status", "op-ended", "restore", "verification", "restore-resource", …
	op     providers.Op
	hook   string
	res    string // resource id
	status string
}

func (e *events) add(ev event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seq++
	ev.seq = e.seq
	e.all = append(e.all, ev)
}

func (e *events) list() []event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]event(nil), e.all...)
}

// hookSeq returns the sequence number of a hook call on a resource, and how
// many there were.
func (e *events) hookSeq(hook, res string) (int, int) {
	seq, n := 0, 0
	for _, ev := range e.list() {
		if ev.kind == "hook" && ev.hook == hook && ev.res == res {
			seq, n = ev.seq, n+1
		}
	}
	return seq, n
}

func (e *events) statuses(kind string) []string {
	var out []string
	for _, ev := range e.list() {
		if ev.kind == kind {
			out = append(out, ev.status)
		}
	}
	return out
}

// recorder is a providers.Recorder writing to events, and keeping the
// operation-log rows it was given.
type recorder struct {
	ev   *events
	mu   sync.Mutex
	logs map[string]karbor.OperationLog
	n    int
}

func newRecorder(ev *events) *recorder {
	return &recorder{ev: ev, logs: map[string]karbor.OperationLog{}}
}

func (r *recorder) OperationStarted(_ context.Context, l karbor.OperationLog) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	id := fmt.Sprintf("log-%d", r.n)
	r.logs[id] = l
	r.ev.add(event{kind: "op-started", status: l.Status})
	return id, nil
}

func (r *recorder) OperationStatus(_ context.Context, id, status string) error {
	return r.note("op-status", id, status)
}

func (r *recorder) OperationEnded(_ context.Context, id, status string) error {
	return r.note("op-ended", id, status)
}

func (r *recorder) CheckpointRecovered(_ context.Context, checkpointID, status string, missing *karbor.OperationLog) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if missing != nil {
		r.n++
		r.logs[fmt.Sprintf("log-%d", r.n)] = *missing
	}
	r.ev.add(event{kind: "op-recovered", res: checkpointID, status: status})
	return nil
}

func (r *recorder) RestoreStatus(_ context.Context, id, status string) error {
	return r.note("restore", id, status)
}

func (r *recorder) RestoreResource(_ context.Context, id string, rr karbor.ResourceResult) error {
	return r.note("restore-resource", rr.ID, rr.Status)
}

func (r *recorder) VerificationStatus(_ context.Context, id, status string) error {
	return r.note("verification", id, status)
}

func (r *recorder) VerificationResource(_ context.Context, id string, rr karbor.ResourceResult) error {
	return r.note("verification-resource", rr.ID, rr.Status)
}

// note records one event.
func (r *recorder) note(kind, res, status string) error {
	r.ev.add(event{kind: kind, res: res, status: status})
	return nil
}

func (r *recorder) onlyLog(t *testing.T) karbor.OperationLog {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Len(t, r.logs, 1)
	for _, l := range r.logs {
		return l
	}
	return karbor.OperationLog{}
}

// testPlugin is the protection plugin "test-protection-plugin": provider
// files name the instance it is ([test_plugin] instance = <name>), which
// tests set up in testPlugins first.
type testPlugin struct {
	types []string
	ev    *events
	// fail makes a hook fail: "<op>:<hook>:<resource id>".
	fail string
	// block makes a hook wait for its context's end, after closing started.
	block   string
	started chan struct{}
	// missing are operations the plugin does not implement.
	missing map[providers.Op]bool
	// report makes restore and verify hooks report each resource.
	report bool
	// onMain, when set, is called by every on_main hook.
	onMain func(ctx context.Context, a *providers.HookArgs) error
}

var testPlugins sync.Map // name → *testPlugin

const testPluginName = "test-protection-plugin"

func init() {
	providers.Register(testPluginName, func(_ context.Context, conf, _ *config.Config) (providers.ProtectionPlugin, error) {
		name, _ := conf.Get("test_plugin", "instance")
		p, ok := testPlugins.Load(name)
		if !ok {
			return nil, fmt.Errorf("no test plugin instance %q", name)
		}
		return p.(*testPlugin), nil
	})
}

func (p *testPlugin) ResourceTypes() []string { return p.types }

func (p *testPlugin) Schemas(t string) providers.Schemas {
	return providers.Schemas{
		Options:   json.RawMessage(`{"title": "options of ` + t + `"}`),
		Restore:   json.RawMessage(`{"properties": {"restore_name": {"type": "string"}}}`),
		SavedInfo: nil,
	}
}

func (p *testPlugin) Hooks(op providers.Op, r graph.Resource) (providers.Hooks, error) {
	if p.missing[op] {
		return nil, providers.NotImplemented(testPluginName, op)
	}
	return &testHooks{p: p, op: op}, nil
}

type testHooks struct {
	p  *testPlugin
	op providers.Op
}

func (h *testHooks) run(ctx context.Context, hook string, a *providers.HookArgs) error {
	h.p.ev.add(event{kind: "hook", op: h.op, hook: hook, res: a.Resource.ID})
	spec := string(h.op) + ":" + hook + ":" + a.Resource.ID
	if h.p.block == spec {
		close(h.p.started)
		<-ctx.Done()
		return ctx.Err()
	}
	if h.p.fail == spec {
		return errors.New("hook failed on purpose")
	}
	if hook == "on_main" && h.p.onMain != nil {
		if err := h.p.onMain(ctx, a); err != nil {
			return err
		}
	}
	if h.p.report && hook == "on_main" {
		a.ReportResult(ctx, karbor.ResourceResult{Type: a.Resource.Type, ID: a.Resource.ID, Status: "available"})
	}
	return nil
}

func (h *testHooks) OnPrepareBegin(ctx context.Context, a *providers.HookArgs) error {
	return h.run(ctx, "on_prepare_begin", a)
}

func (h *testHooks) OnPrepareFinish(ctx context.Context, a *providers.HookArgs) error {
	return h.run(ctx, "on_prepare_finish", a)
}

func (h *testHooks) OnMain(ctx context.Context, a *providers.HookArgs) error {
	return h.run(ctx, "on_main", a)
}

func (h *testHooks) OnComplete(ctx context.Context, a *providers.HookArgs) error {
	return h.run(ctx, "on_complete", a)
}

// Revert records that the resource's steps were reverted.
func (h *testHooks) Revert(_ context.Context, a *providers.HookArgs) error {
	h.p.ev.add(event{kind: "revert", op: h.op, res: a.Resource.ID})
	return nil
}

// providerFile is the text of a provider file with a file-system bank
// under bankDir.
func providerFile(id, name string, plugins []string, bankDir string, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[provider]\nname = %s\ndescription = %s provider\nid = %s\nbank = karbor-fs-bank-plugin\nenabled = True\n", name, name, id)
	for _, p := range plugins {
		fmt.Fprintf(&b, "plugin = %s\n", p)
	}
	fmt.Fprintf(&b, "\n[file_system_bank_plugin]\nfile_system_bank_path = %s\n", bankDir)
	b.WriteString(extra)
	return b.String()
}

// loadOne loads a registry of one provider file and returns its provider.
func loadOne(t testing.TB, ctx context.Context, text string) (*providers.Registry, *providers.Provider) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p.conf"), []byte(text), 0o644))
	reg, err := providers.Load(ctx, providers.Options{Dir: dir})
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	ps := reg.Providers()
	require.Len(t, ps, 1, "the provider did not load")
	return reg, ps[0]
}

// testProvider loads a provider whose plugin is tp (registered under a name
// unique to the test).
func testProvider(t testing.TB, ctx context.Context, tp *testPlugin) *providers.Provider {
	t.Helper()
	name := t.Name()
	testPlugins.Store(name, tp)
	t.Cleanup(func() { testPlugins.Delete(name) })
	_, p := loadOne(t, ctx, providerFile("prov-1", "Test", []string{testPluginName}, filepath.Join(t.TempDir(), "bank"),
		"\n[test_plugin]\ninstance = "+name+"\n"))
	return p
}

// fixedGraph is a GraphBuilder answering with a fixed graph.
type fixedGraph graph.Graph

func (g fixedGraph) BuildGraph(context.Context, *karbor.RequestContext, []graph.Resource) (graph.Graph, error) {
	return graph.Graph(g), nil
}

func node(typ, id string, children ...*graph.Node) *graph.Node {
	return &graph.Node{Resource: graph.Resource{Type: typ, ID: id, Name: id + "-name"}, Children: children}
}

// world is a project with two servers sharing a volume; server a also has
// a boot image; and a lone volume beside the project.
func world() graph.Graph {
	shared := node(karbor.VolumeResourceType, "vol-shared")
	a := node(karbor.ServerResourceType, "srv-a", node(karbor.ImageResourceType, "img-a"), shared)
	b := node(karbor.ServerResourceType, "srv-b", shared)
	return graph.Graph{node(karbor.ProjectResourceType, "prj", a, b), node(karbor.VolumeResourceType, "vol-lone")}
}

// planOf is a plan of a graph's roots.
func planOf(g graph.Graph, providerID string) *karbor.Plan {
	plan := &karbor.Plan{ID: "plan-1", Name: "my plan", ProviderID: providerID, ProjectID: "project-1",
		Parameters: karbor.Parameters{karbor.VolumeResourceType: {"backup_name": "b"}}}
	for _, n := range g {
		plan.Resources = append(plan.Resources, karbor.PlanResource{ID: n.Resource.ID, Type: n.Resource.Type, Name: n.Resource.Name})
	}
	return plan
}

// manual are the checkpoint_properties karbor-api sends with a protect.
var manual = providers.CheckpointProperties{Status: bank.StatusProtecting, ExtraInfo: json.RawMessage(`"{\"created_by\": \"manual\"}"`)}

// bankPlan is a plan as a new checkpoint records it.
func bankPlan(t testing.TB, plan *karbor.Plan) bank.Plan {
	t.Helper()
	raw, err := json.Marshal(plan.Resources)
	require.NoError(t, err)
	return bank.Plan{ID: plan.ID, Name: plan.Name, ProviderID: plan.ProviderID, Resources: raw}
}

// newCheckpoint creates a checkpoint of a plan as the protect RPC does,
// without building its flow.
func newCheckpoint(t testing.TB, ctx context.Context, p *providers.Provider, plan *karbor.Plan) *bank.Checkpoint {
	t.Helper()
	cp, err := p.Checkpoints().Create(ctx, bank.NewCheckpoint{
		Plan: bankPlan(t, plan), ProjectID: plan.ProjectID, Status: manual.Status, ExtraInfo: manual.ExtraInfo,
	})
	require.NoError(t, err)
	return cp
}

func status(t testing.TB, ctx context.Context, p *providers.Provider, id string) string {
	t.Helper()
	cp, err := p.Checkpoints().Get(ctx, id)
	require.NoError(t, err)
	return cp.Status
}

var rc = &karbor.RequestContext{UserID: "user-1", ProjectID: "project-1", ProjectName: "demo", RequestID: "req-1"}

// waitClosed waits for ch to be closed, failing the test after a deadline.
func waitClosed(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting")
	}
}
