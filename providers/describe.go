package providers

import (
	"context"
	"fmt"

	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers/graph"
	"github.com/gokarbor/karbor-protection/taskflow"
)

// DescribeFlow builds the flow an operation would run on a plan, without
// running it and without touching a bank: for an operator who wants to see
// the graph. The provider is the plan's, read from opts' provider directory
// with its plugins only (no bank is opened, no lease taken). The resource
// graph is the plan's, built as protect builds it with graphs; restore,
// verify, delete and copy run over that same graph once it is stored in a
// checkpoint, here named checkpointID (and the copy's checkpoint, for a
// copy, copyID). Task and flow names are those the real operation uses.
// Hooks are asked for (so a plugin lacking the operation fails as the real
// build would) but never called.
func DescribeFlow(ctx context.Context, opts Options, graphs GraphBuilder, rc *karbor.RequestContext, op Op, plan *karbor.Plan, checkpointID, copyID string) (*taskflow.Compiled, error) {
	p, err := loadPluginsOnly(ctx, opts, plan.ProviderID)
	if err != nil {
		return nil, err
	}
	g, err := graphs.BuildGraph(ctx, rc, graph.FromPlan(plan.Resources))
	if err != nil {
		return nil, fmt.Errorf("providers: resource graph of plan %s: %w", plan.ID, err)
	}
	var params karbor.Parameters
	if op != OpDelete {
		params = plan.Parameters
	}
	switch op {
	case OpProtect, OpRestore, OpVerify, OpDelete, OpCopy:
	default:
		return nil, fmt.Errorf("providers: unknown operation %q", op)
	}
	f, err := newFlow(ctx, p, g, params, HookArgs{Op: op, Request: rc}, namesOf(op, plan.ID, checkpointID, copyID), checkpointID, nil, noSteps{})
	if err != nil {
		return nil, fmt.Errorf("providers: %s flow of plan %s: %w", op, plan.ID, err)
	}
	return f.flow, nil
}

// noSteps are the Initiate/Complete steps of a flow that is only described,
// never run.
type noSteps struct{}

func (noSteps) initiate(context.Context) error { return nil }
func (noSteps) complete(context.Context) error { return nil }
func (noSteps) fail(context.Context) error     { return nil }

// loadPluginsOnly finds the enabled provider with id in the provider
// directory (files in name order, as Load reads them) and loads its
// protection plugins, not its bank.
func loadPluginsOnly(ctx context.Context, opts Options, id string) (*Provider, error) {
	_, paths, err := providerFiles(opts)
	if err != nil {
		return nil, err
	}
	for _, path := range paths {
		conf, err := config.Load(config.ProviderRegistry(), config.LoadOptions{Sources: []config.Source{{Path: path}}, Environ: opts.Environ})
		if err != nil {
			continue // Load skips it too
		}
		pc, err := config.NewProvider(conf)
		if err != nil || !pc.Enabled || pc.ID != id {
			continue
		}
		p, err := newPluginsOnly(ctx, path, pc, conf, opts.Service)
		if err != nil {
			return nil, fmt.Errorf("providers: %s: %w", path, err)
		}
		return p, nil
	}
	return nil, karbor.ProviderNotFound(id)
}
