package providers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/registry"
	"github.com/gokarbor/karbor-protection/providers/graph"
)

// Op is an operation type, as karbor names it in task names and operation
// logs.
type Op string

// The operations a protection plugin may implement.
const (
	OpProtect Op = karbor.OperationProtect
	OpRestore Op = karbor.OperationRestore
	OpVerify  Op = karbor.OperationVerify
	OpDelete  Op = karbor.OperationDelete
	OpCopy    Op = karbor.OperationCopy
)

// ProtectionPlugin is a protection plugin as a provider loaded it: one
// instance per provider, built from the provider file, used by every flow of
// that provider, concurrently.
type ProtectionPlugin interface {
	// ResourceTypes are the types the plugin protects, in its order (which
	// orders the provider's schema maps).
	ResourceTypes() []string
	// Schemas are the plugin's JSON schemas for one of its types, as
	// published in the provider's extended_info_schema.
	Schemas(resourceType string) Schemas
	// Hooks returns what operation op does to resource r (Python's
	// get_<op>_operation). An operation the plugin does not implement is an
	// error wrapping ErrNotImplemented; nil Hooks (and no error) means the
	// operation does nothing for r, as a Python plugin returning None.
	Hooks(op Op, r graph.Resource) (Hooks, error)
}

// Schemas are a plugin's JSON schemas for one resource type; nil reads as
// {}. Python plugins also define a verify schema, which providers never
// publish.
type Schemas struct {
	Options   json.RawMessage
	Restore   json.RawMessage
	SavedInfo json.RawMessage
}

// ErrNotImplemented is wrapped by Hooks for an operation the plugin does not
// implement (Python's NotImplementedError). Building a flow then fails; the
// manager reports it as the Python service does, e.g. FlowError(flow="verify",
// error="Failed to create flow").
var ErrNotImplemented = errors.New("operation not implemented by the protection plugin")

// NotImplemented returns the error Hooks gives for an operation the plugin
// lacks.
func NotImplemented(plugin string, op Op) error {
	return fmt.Errorf("%s: %s: %w", plugin, op, ErrNotImplemented)
}

// Hooks are what an operation does to one resource, in four steps (Python's
// Operation): for a resource and its dependents (children),
//
//	OnPrepareBegin  runs before the children's OnPrepareBegin;
//	OnPrepareFinish runs after the children's OnPrepareFinish;
//	OnMain          runs after the resource's own OnPrepareFinish, in
//	                parallel with every other resource's OnMain;
//	OnComplete      runs after the children's OnComplete.
//
// An error fails the operation: nothing new starts, and the operation's
// failure status is recorded. Embed BaseHooks to implement only some.
type Hooks interface {
	OnPrepareBegin(ctx context.Context, a *HookArgs) error
	OnPrepareFinish(ctx context.Context, a *HookArgs) error
	OnMain(ctx context.Context, a *HookArgs) error
	OnComplete(ctx context.Context, a *HookArgs) error
}

// Reverter is implemented by Hooks that hold something between their steps
// which a failed operation must release, e.g. a temporary snapshot taken in
// OnPrepareFinish for OnMain, which does not run when another resource
// fails first. Revert runs once for each resource any of whose steps ran,
// after the operation failed and the resource's steps ended (TaskFlow's
// revert of its tasks), under a context not cancelled with the operation's.
type Reverter interface {
	Revert(ctx context.Context, a *HookArgs) error
}

// BaseHooks does nothing in each step; embed it in a Hooks implementation
// to write only the steps it needs.
type BaseHooks struct{}

// OnPrepareBegin does nothing.
func (BaseHooks) OnPrepareBegin(context.Context, *HookArgs) error { return nil }

// OnPrepareFinish does nothing.
func (BaseHooks) OnPrepareFinish(context.Context, *HookArgs) error { return nil }

// OnMain does nothing.
func (BaseHooks) OnMain(context.Context, *HookArgs) error { return nil }

// OnComplete does nothing.
func (BaseHooks) OnComplete(context.Context, *HookArgs) error { return nil }

// HookArgs is what every hook of one resource receives (the keyword
// arguments of the Python hooks). It is shared by the resource's four hooks
// and must not be modified.
type HookArgs struct {
	Op Op
	// Request is the caller's context: its token reaches OpenStack.
	Request  *karbor.RequestContext
	Resource graph.Resource
	// Parameters are the operation's parameters for this resource: those
	// given for its type, overridden by those given for "<type>#<id>".
	Parameters map[string]string
	// Checkpoint is the checkpoint operated on: the one being protected or
	// deleted (writable), restored or verified from (read-only), or copied
	// from (read-only).
	Checkpoint *CheckpointRef
	// CheckpointCopy is the copy being written (copy only).
	CheckpointCopy *CheckpointRef
	// OperationLogID is the operation-log row of the operation.
	OperationLogID string
	// Restore is the restore being run (restore only).
	Restore *karbor.Restore
	// Verification is the verification being run (verify only).
	Verification *karbor.Verification
	// NewResources maps original resource ids to the ids of what a restore
	// created (restore and verify; shared by every hook of the operation).
	NewResources *NewResources

	report func(ctx context.Context, r karbor.ResourceResult)
}

// ReportResult records one resource's result of a restore or verification
// in its database row (resources_status and resources_reason, keyed
// "<type>#<id>"), as karbor's update_resource_status does. Other operations
// record nothing.
func (a *HookArgs) ReportResult(ctx context.Context, r karbor.ResourceResult) {
	if a.report != nil {
		a.report(ctx, r)
	}
}

// Report is ReportResult for the hook's own resource: its status and, when
// not empty, the reason.
func (a *HookArgs) Report(ctx context.Context, status, reason string) {
	r := karbor.ResourceResult{Type: a.Resource.Type, ID: a.Resource.ID, Status: status}
	if reason != "" {
		r.Reason = &reason
	}
	a.ReportResult(ctx, r)
}

// Factory builds a protection plugin for one provider from its provider
// file (conf: the plugin's own options) and karbor.conf (service: the
// options of the OpenStack clients it makes, [<svc>_client] and [trustee],
// as the Python plugins read them from the global configuration; nil reads
// as every default). An error makes the provider fail to load.
type Factory func(ctx context.Context, conf, service *config.Config) (ProtectionPlugin, error)

var factories = registry.New[Factory]("providers", "protection plugin")

// Register makes a protection plugin available under name, its karbor
// entry-point name (namespace karbor.protections), e.g.
// "karbor-noop-protection-plugin". It panics on an empty name, a nil factory
// or a duplicate, all programmer errors.
func Register(name string, factory Factory) { factories.Register(name, factory) }

// Plugins returns the registered protection plugin names, sorted.
func Plugins() []string { return factories.Names() }

func openPlugin(ctx context.Context, name string, conf, service *config.Config) (ProtectionPlugin, error) {
	f, ok := factories.Lookup(entryPoint(name))
	if !ok {
		return nil, factories.Unknown(name) // as the provider file names it
	}
	p, err := f(ctx, conf, service)
	if err == nil && p == nil {
		err = errors.New("factory returned no plugin")
	}
	if err != nil {
		return nil, fmt.Errorf("load protection plugin %q: %w", name, err)
	}
	return p, nil
}

// classPaths are the Python classes behind karbor's entry points
// (setup.cfg, karbor.protections). The Python service resolves a plugin or
// bank name as an entry point first and then as a class path, so a
// provider file may name either.
var classPaths = map[string]string{
	"karbor.services.protection.bank_plugins.swift_bank_plugin.SwiftBankPlugin":                                    "karbor-swift-bank-plugin",
	"karbor.services.protection.bank_plugins.file_system_bank_plugin.FileSystemBankPlugin":                         "karbor-fs-bank-plugin",
	"karbor.services.protection.bank_plugins.s3_bank_plugin.S3BankPlugin":                                          "karbor-s3-bank-plugin",
	"karbor.services.protection.protection_plugins.volume.volume_freezer_plugin.FreezerProtectionPlugin":           "karbor-volume-freezer-plugin",
	"karbor.services.protection.protection_plugins.volume.cinder_protection_plugin.CinderBackupProtectionPlugin":   "karbor-volume-protection-plugin",
	"karbor.services.protection.protection_plugins.volume.volume_snapshot_plugin.VolumeSnapshotProtectionPlugin":   "karbor-volume-snapshot-plugin",
	"karbor.services.protection.protection_plugins.volume.volume_glance_plugin.VolumeGlanceProtectionPlugin":       "karbor-volume-glance-plugin",
	"karbor.services.protection.protection_plugins.image.image_protection_plugin.GlanceProtectionPlugin":           "karbor-image-protection-plugin",
	"karbor.services.protection.protection_plugins.server.nova_protection_plugin.NovaProtectionPlugin":             "karbor-server-protection-plugin",
	"karbor.services.protection.protection_plugins.share.share_snapshot_plugin.ManilaSnapshotProtectionPlugin":     "karbor-share-protection-plugin",
	"karbor.services.protection.protection_plugins.noop_plugin.NoopProtectionPlugin":                               "karbor-noop-protection-plugin",
	"karbor.services.protection.protection_plugins.network.neutron_protection_plugin.NeutronProtectionPlugin":      "karbor-network-protection-plugin",
	"karbor.services.protection.protection_plugins.database.database_backup_plugin.DatabaseBackupProtectionPlugin": "karbor-database-protection-plugin",
	"karbor.services.protection.protection_plugins.pod.pod_protection_plugin.PodProtectionPlugin":                  "karbor-pod-protection-plugin",
}

// entryPoint returns the entry-point name a provider file's plugin or bank
// name stands for.
func entryPoint(name string) string {
	if ep, ok := classPaths[name]; ok {
		return ep
	}
	return name
}
