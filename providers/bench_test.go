package providers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/db"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/progress"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/graph"
	"github.com/gokarbor/karbor-protection/providers/noop"
	"github.com/gokarbor/karbor-protection/providers/protectables"
)

// benchPlan is a plan of n resources: servers, volumes and images in turn,
// as a noop provider with no OpenStack protects them (each server's
// dependents are asked for, and cannot be listed).
func benchPlan(n int, providerID string) *karbor.Plan {
	types := []string{karbor.ServerResourceType, karbor.VolumeResourceType, karbor.ImageResourceType}
	plan := &karbor.Plan{ID: "bench-plan", Name: "bench", ProviderID: providerID, ProjectID: "project-1",
		Parameters: karbor.Parameters{karbor.VolumeResourceType: {"backup_name": "b"}}}
	for i := range n {
		plan.Resources = append(plan.Resources, karbor.PlanResource{
			ID: fmt.Sprintf("%08d-0000-4000-8000-000000000000", i), Type: types[i%3], Name: fmt.Sprintf("resource %d", i)})
	}
	return plan
}

// protectCall is everything between the protect RPC and the checkpoint being
// available: create the checkpoint, build (graph, packed graph in
// index.json, operation log, flow, compile), run.
func protectCall(ctx context.Context, b *providers.Builder, p *providers.Provider, plan *karbor.Plan) error {
	op, _, err := b.BuildProtect(ctx, rc, p, plan, manual)
	if err != nil {
		return err
	}
	return op.Run(ctx)
}

// directCall is the floor: the same bank writes (create, the packed graph,
// protecting, available) and every noop hook called in turn, without a
// resource graph to build, a flow to build or an engine to run it.
func directCall(ctx context.Context, p *providers.Provider, plan *karbor.Plan, bp bank.Plan, packed string) error {
	cps := p.Checkpoints()
	cp, err := cps.Create(ctx, bank.NewCheckpoint{Plan: bp, ProjectID: plan.ProjectID,
		Status: bank.StatusProtecting, ExtraInfo: json.RawMessage(`"{\"created_by\": \"manual\"}"`)})
	if err != nil {
		return err
	}
	if _, err := cps.SetResourceGraph(ctx, cp.ID, packed); err != nil {
		return err
	}
	if _, err := cps.SetStatus(ctx, cp.ID, bank.StatusProtecting); err != nil {
		return err
	}
	plugin := noop.Plugin{}
	for _, r := range graph.FromPlan(plan.Resources) {
		h, err := plugin.Hooks(providers.OpProtect, r)
		if err != nil {
			return err
		}
		a := &providers.HookArgs{Op: providers.OpProtect, Request: rc, Resource: r, Parameters: plan.Parameters.For(r.Type, r.ID)}
		for _, step := range []func(context.Context, *providers.HookArgs) error{h.OnPrepareBegin, h.OnPrepareFinish, h.OnMain, h.OnComplete} {
			if err := step(ctx, a); err != nil {
				return err
			}
		}
	}
	_, err = cps.SetStatus(ctx, cp.ID, bank.StatusAvailable)
	return err
}

// BenchmarkProtect measures a protect of n noop resources from the RPC to
// available (ns/op, ns/resource) against directCall in the same run
// (baseline-ns/resource, x-baseline; overhead-ns/resource is what the
// graph, the flow and the engine add per resource), without and with a
// progress tracker.
func BenchmarkProtect(b *testing.B) {
	for _, tracked := range []bool{false, true} {
		for _, n := range []int{10, 100, 1000, 10000} {
			b.Run(fmt.Sprintf("progress=%t/resources=%d", tracked, n), func(b *testing.B) {
				var tracker *progress.Tracker
				if tracked {
					tracker = progress.New(progress.Options{})
				}
				benchmarkProtect(b, n, tracker)
			})
		}
	}
}

// benchmarkProtect is BenchmarkProtect's run of n resources; a tracker,
// when given, gets the operations' progress (the operator listener's
// /operations).
func benchmarkProtect(b *testing.B, n int, tracker *progress.Tracker) {
	ctx, _ := quiet(b)
	_, p := loadOne(b, ctx, noopFile(filepath.Join(b.TempDir(), "bank")))
	builder := providers.NewBuilder(protectables.Load(ctx, nil), &db.Recorder{}, providers.WithProgress(tracker))
	plan := benchPlan(n, p.ID())
	bp := bankPlan(b, plan)
	g, err := protectables.Load(ctx, nil).BuildGraph(ctx, rc, graph.FromPlan(plan.Resources))
	require.NoError(b, err)
	packed, err := g.Pack()
	require.NoError(b, err)

	var direct time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		start := time.Now()
		require.NoError(b, directCall(ctx, p, plan, bp, packed))
		direct += time.Since(start)
		b.StartTimer()
		require.NoError(b, protectCall(ctx, builder, p, plan))
	}
	full := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	floor := float64(direct.Nanoseconds()) / float64(b.N)
	b.ReportMetric(full/float64(n), "ns/resource")
	b.ReportMetric(floor/float64(n), "baseline-ns/resource")
	b.ReportMetric(full/floor, "x-baseline")
	b.ReportMetric((full-floor)/float64(n), "overhead-ns/resource")
}

// BenchmarkPack measures packing a graph of n resources into its
// resource_graph string.
func BenchmarkPack(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprintf("resources=%d", n), func(b *testing.B) {
			ctx, _ := quiet(b)
			g, err := protectables.Load(ctx, nil).BuildGraph(ctx, rc, graph.FromPlan(benchPlan(n, "p").Resources))
			require.NoError(b, err)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := g.Pack(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/resource")
		})
	}
}
