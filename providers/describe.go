package providers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

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
	resources, err := resourceFlow(ctx, p, op, g, params, HookArgs{Op: op, Request: rc})
	if err != nil {
		return nil, fmt.Errorf("providers: %s flow of plan %s: %w", op, plan.ID, err)
	}
	var name, initiate, complete string
	switch op {
	case OpProtect:
		name, initiate, complete = "Protect_"+plan.ID, "InitiateProtectTask", "CompleteProtectTask"
	case OpRestore:
		name, initiate, complete = "Restore_"+checkpointID, "InitiateRestoreTask", "CompleteRestoreTask"
	case OpVerify:
		name, initiate, complete = "Verify_"+checkpointID, "InitiateVerifyTask", "CompleteVerifyTask"
	case OpDelete:
		name, initiate, complete = "Delete_Checkpoint_"+checkpointID, "InitiateDeleteTask", "CompleteDeleteTask"
	case OpCopy:
		name, initiate, complete = "Copy_"+plan.ID+checkpointID, "InitiateCopyTask_"+copyID, "CompleteCopyTask_"+copyID
	default:
		return nil, fmt.Errorf("providers: unknown operation %q", op)
	}
	nothing := func(context.Context) error { return nil }
	return (&Builder{}).compile(name, initiate, complete, resources, transitions{start: nothing, complete: nothing, fail: nothing})
}

// loadPluginsOnly finds the enabled provider with id in the provider
// directory (files in name order, as Load reads them) and loads its
// protection plugins, not its bank.
func loadPluginsOnly(ctx context.Context, opts Options, id string) (*Provider, error) {
	if opts.Dir == "" {
		opts.Dir = "providers.d"
	}
	dir, err := FindConfigDir(opts.Dir, opts.SearchRoots)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("providers: read provider_config_dir: %w", err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".conf") || !e.Type().IsRegular() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		conf, err := config.Load(config.ProviderRegistry(), config.LoadOptions{Sources: []config.Source{{Path: path}}, Environ: opts.Environ})
		if err != nil {
			continue // Load skips it too
		}
		pc, err := config.NewProvider(conf)
		if err != nil || !pc.Enabled || pc.ID != id {
			continue
		}
		p := &Provider{id: pc.ID, name: pc.Name, description: pc.Description, file: path, plugins: map[string]ProtectionPlugin{}}
		for _, name := range pc.Plugins {
			if name == "" {
				return nil, fmt.Errorf("providers: %s: %w", path, errEmptyPlugin)
			}
			pl, err := openPlugin(ctx, name, conf, opts.Service)
			if err != nil {
				return nil, fmt.Errorf("providers: %s: %w", path, err)
			}
			if err := p.addPlugin(name, pl); err != nil {
				return nil, fmt.Errorf("providers: %s: %w", path, err)
			}
		}
		return p, nil
	}
	return nil, karbor.ProviderNotFound(id)
}
