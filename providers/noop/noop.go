// Package noop is karbor's no-op protection plugin,
// "karbor-noop-protection-plugin": it protects every resource type and does
// nothing, for testing a deployment end to end (etc/providers.d/noop.conf).
// Its schemas are all {}.
//
// Unlike the Python plugin, which has no verify and no copy operation (so a
// verification fails with FlowError(flow="verify", error="Failed to create
// flow") and a copy with "Internal error"), it implements all five
// operations: with the noop provider a verification succeeds and a copy
// completes.
//
// Restores and verifications report each resource's result as karbor's real
// plugins do (the Python noop plugin reports none, leaving the rows'
// resources_status NULL): a restore marks a resource "restoring" when its
// main step starts and "available" when it ends, a verification marks it
// "available", keyed "<type>#<id>" with the resource's id in the checkpoint
// and no reason, so an operator following a restore sees every resource
// arrive.
//
// The program imports it for its side effect:
//
//	import _ "github.com/gokarbor/karbor-protection/providers/noop"
package noop

import (
	"context"
	"encoding/json"

	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/graph"
)

// PluginName is the entry-point name provider files use.
const PluginName = "karbor-noop-protection-plugin"

func init() {
	providers.Register(PluginName, func(context.Context, *config.Config, *config.Config) (providers.ProtectionPlugin, error) {
		return Plugin{}, nil
	})
}

// Plugin is the no-op protection plugin.
type Plugin struct{}

var empty = json.RawMessage("{}")

// ResourceTypes are all of karbor's resource types, in RESOURCE_TYPES order.
func (Plugin) ResourceTypes() []string { return karbor.ResourceTypes() }

// Schemas are {} for every type.
func (Plugin) Schemas(string) providers.Schemas {
	return providers.Schemas{Options: empty, Restore: empty, SavedInfo: empty}
}

// Hooks does nothing, for every operation, but report each resource's
// result of a restore or verification.
func (Plugin) Hooks(op providers.Op, _ graph.Resource) (providers.Hooks, error) {
	switch op {
	case providers.OpRestore:
		return restoreHooks{}, nil
	case providers.OpVerify:
		return verifyHooks{}, nil
	}
	return providers.BaseHooks{}, nil
}

// report records the resource's result under its id in the checkpoint,
// without a reason: karbor's plugin helpers pass "" on success, which only
// fills resources_reason with empty strings.
func report(ctx context.Context, a *providers.HookArgs, status string) {
	a.ReportResult(ctx, karbor.ResourceResult{Type: a.Resource.Type, ID: a.Resource.ID, Status: status})
}

// restoreHooks "restores" a resource in its main step, as the cinder
// plugin does: restoring while it works, then available.
type restoreHooks struct{ providers.BaseHooks }

func (restoreHooks) OnMain(ctx context.Context, a *providers.HookArgs) error {
	report(ctx, a, karbor.ResourceStatusRestoring)
	report(ctx, a, karbor.ResourceStatusAvailable)
	return nil
}

// verifyHooks finds every resource available, as the cinder plugin does for
// a backup that is.
type verifyHooks struct{ providers.BaseHooks }

func (verifyHooks) OnMain(ctx context.Context, a *providers.HookArgs) error {
	report(ctx, a, karbor.ResourceStatusAvailable)
	return nil
}
