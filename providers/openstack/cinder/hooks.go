package cinder

import (
	"context"
	"errors"
	"fmt"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/providers"
)

// What both plugins' hooks share. A plugin's protection is one Cinder
// object (a backup or a snapshot) that its metadata M names by id; the
// plugins differ in M, the Cinder calls and karbor's message texts, which
// differ per plugin and are kept as they are.

// hooksFor is both plugins' Hooks: protect's hooks, or the main step of
// restore, verify or delete; copy is not implemented, as in Python.
func hooksFor(plugin string, op providers.Op, protect providers.Hooks, restore, verify, del func(context.Context, *providers.HookArgs) error) (providers.Hooks, error) {
	switch op {
	case providers.OpProtect:
		return protect, nil
	case providers.OpRestore:
		return mainHook{main: restore}, nil
	case providers.OpVerify:
		return mainHook{main: verify}, nil
	case providers.OpDelete:
		return mainHook{main: del}, nil
	}
	return nil, providers.NotImplemented(plugin, op)
}

// mainHook is the hooks of an operation that has only a main step.
type mainHook struct {
	providers.BaseHooks
	main func(ctx context.Context, a *providers.HookArgs) error
}

// OnMain runs the step.
func (h mainHook) OnMain(ctx context.Context, a *providers.HookArgs) error { return h.main(ctx, a) }

// readMetadata reads a resource section's metadata object.
func readMetadata(ctx context.Context, cp *providers.CheckpointRef, id string, v any) error {
	sec, err := cp.ResourceSection(id)
	if err != nil {
		return err
	}
	return sec.GetJSON(ctx, "metadata", v)
}

// protecting opens a resource's section and records that it is being
// protected.
func protecting(ctx context.Context, a *providers.HookArgs) (*bank.Section, error) {
	sec, err := a.Checkpoint.ResourceSection(a.Resource.ID)
	if err != nil {
		return nil, err
	}
	if err := sec.PutString(ctx, "status", karbor.ResourceStatusProtecting); err != nil {
		return nil, err
	}
	return sec, nil
}

// markError records the error status of a resource whose operation failed;
// the failure itself is what the caller returns, so this one is only logged.
func markError(ctx context.Context, sec *bank.Section) {
	if err := sec.PutString(ctx, "status", karbor.ResourceStatusError); err != nil {
		logctx.From(ctx).WithError(err).Warn("Failed recording the error status")
	}
}

// verifyProtected is both plugins' verify: the object the metadata names
// must be available. getFails starts the reason of a failure to read it;
// kind names it in the reason of a status other than available.
func verifyProtected[M any](ctx context.Context, a *providers.HookArgs, name, getFails, kind string, client clientFunc,
	id func(*M) string, get func(ctx context.Context, c *gophercloud.ServiceClient, id string) (string, error)) error {
	vol := a.Resource.ID
	failed := func(status, why string) error {
		a.ReportResult(ctx, result(vol, status, why))
		return karbor.VerifyResourceFailed(name, why, vol, a.Resource.Type)
	}
	var md M
	if err := readMetadata(ctx, a.Checkpoint, vol, &md); err != nil {
		return failed(karbor.ResourceStatusError, getFails+reason(err))
	}
	c, err := client(ctx, a.Request)
	if err != nil {
		return failed(karbor.ResourceStatusError, getFails+reason(err))
	}
	st, err := get(ctx, c, id(&md))
	if err != nil {
		return failed(karbor.ResourceStatusError, getFails+reason(err))
	}
	if st != "available" {
		return failed(st, fmt.Sprintf("The status of volume %s status is %s.", kind, st))
	}
	a.ReportResult(ctx, result(vol, karbor.ResourceStatusAvailable, ""))
	return nil
}

// restoreProtected is both plugins' restore: restore makes a new volume of
// the object the metadata names and returns its id (empty when none was
// made) and karbor's reason of a failure (empty on success). A volume
// made by a failed restore is removed. kind names the object in the
// reasons of a checkpoint that records none.
func restoreProtected[M any](ctx context.Context, a *providers.HookArgs, name, kind string, b base, id func(*M) string,
	restore func(ctx context.Context, c *gophercloud.ServiceClient, md *M) (newID, why string)) error {
	vol := a.Resource.ID
	failed := func(why string) error {
		a.ReportResult(ctx, result(vol, karbor.ResourceStatusError, why))
		return karbor.RestoreResourceFailed(name, why, vol, a.Resource.Type)
	}
	var md M
	if err := readMetadata(ctx, a.Checkpoint, vol, &md); err != nil {
		return failed("Error reading the " + kind + "'s metadata: " + reason(err))
	}
	if id(&md) == "" {
		return failed("The checkpoint records no " + kind + " of the volume")
	}
	c, err := b.client(ctx, a.Request)
	if err != nil {
		return failed(reason(err))
	}
	newID, why := restore(ctx, c, &md)
	if why != "" {
		if newID != "" {
			cleanup(ctx, "volume "+newID, func(ctx context.Context) error { return b.deleteVolume(ctx, c, newID) })
		}
		return failed(why)
	}
	a.NewResources.Set(vol, newID)
	a.ReportResult(ctx, result(vol, karbor.ResourceStatusAvailable, ""))
	return nil
}

// deleteProtected is both plugins' delete: status deleting, the object the
// metadata names deleted by del, the metadata removed, status deleted; on
// failure status error and DeleteResourceFailed.
func deleteProtected[M any](ctx context.Context, a *providers.HookArgs, name string, client clientFunc,
	id func(*M) string, del func(ctx context.Context, c *gophercloud.ServiceClient, id string) error) error {
	vol := a.Resource.ID
	sec, err := a.Checkpoint.ResourceSection(vol)
	if err != nil {
		return karbor.DeleteResourceFailed(name, reason(err), vol, karbor.VolumeResourceType)
	}
	err = sec.PutString(ctx, "status", karbor.ResourceStatusDeleting)
	var c *gophercloud.ServiceClient
	if err == nil {
		c, err = client(ctx, a.Request)
	}
	if err == nil {
		// Without metadata the protection made nothing that lasts
		// (it failed and cleaned up): nothing to delete in Cinder.
		var md M
		if err = sec.GetJSON(ctx, "metadata", &md); errors.Is(err, bank.ErrNotFound) {
			err = nil
		} else if err == nil && id(&md) != "" {
			err = del(ctx, c, id(&md))
		}
	}
	if err == nil {
		if err = sec.DeleteObject(ctx, "metadata"); errors.Is(err, bank.ErrNotFound) {
			err = nil
		}
	}
	if err == nil {
		err = sec.PutString(ctx, "status", karbor.ResourceStatusDeleted)
	}
	if err != nil {
		markError(ctx, sec)
		return karbor.DeleteResourceFailed(name, reason(err), vol, karbor.VolumeResourceType)
	}
	return nil
}
