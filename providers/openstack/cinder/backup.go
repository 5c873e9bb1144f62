package cinder

import (
	"context"
	"errors"
	"fmt"

	"github.com/gokarbor/karbor-protection/providers/openstack/statuspoll"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/backups"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/graph"
)

// backupName is the name karbor's exceptions give the backup plugin.
const backupName = "Volume Backup"

// BackupPlugin protects volumes as Cinder backups.
type BackupPlugin struct {
	base
	fromSnapshot bool
}

// NewBackupPlugin builds the plugin from its provider file's
// [cinder_backup_protection_plugin] and karbor.conf.
func NewBackupPlugin(conf, service *config.Config) (*BackupPlugin, error) {
	b, err := newBase(conf, service, backupGroup)
	if err != nil {
		return nil, err
	}
	from := true
	if conf != nil {
		if from, err = conf.Bool(backupGroup, "backup_from_snapshot", true); err != nil {
			return nil, fmt.Errorf("[%s] backup_from_snapshot: %w", backupGroup, err)
		}
	}
	return &BackupPlugin{base: b, fromSnapshot: from}, nil
}

// Schemas are karbor's volume_plugin_cinder_schemas.
func (*BackupPlugin) Schemas(string) providers.Schemas {
	return providers.Schemas{Options: backupOptions, Restore: backupRestore, SavedInfo: backupSavedInfo}
}

// Hooks returns the operation's hooks.
func (p *BackupPlugin) Hooks(op providers.Op, _ graph.Resource) (providers.Hooks, error) {
	return hooksFor(BackupPluginName, op, &backupProtect{p: p}, p.restore, p.verify, p.delete)
}

// backupMetadata is the resource section's "metadata" object.
type backupMetadata struct {
	VolumeID string `json:"volume_id"`
	BackupID string `json:"backup_id"`
}

// backupProtect is one volume's protection: its temporary snapshot, taken
// when the operation prepares, lives between the two hooks.
type backupProtect struct {
	providers.BaseHooks
	p          *BackupPlugin
	rc         *karbor.RequestContext
	snapshotID string
}

func (h *backupProtect) fail(ctx context.Context, sec *bank.Section, volumeID, why string) error {
	markError(ctx, sec)
	h.dropSnapshot(ctx)
	return karbor.CreateResourceFailed(backupName, why, volumeID, karbor.VolumeResourceType)
}

// dropSnapshot removes the temporary snapshot after a failure.
func (h *backupProtect) dropSnapshot(ctx context.Context) {
	if h.snapshotID == "" {
		return
	}
	id := h.snapshotID
	h.snapshotID = ""
	cleanup(ctx, "snapshot "+id, func(ctx context.Context) error {
		c, err := h.p.client(ctx, h.rc)
		if err != nil {
			return err
		}
		return h.p.deleteSnapshot(ctx, c, id)
	})
}

func (p *BackupPlugin) deleteSnapshot(ctx context.Context, c *gophercloud.ServiceClient, id string) error {
	return deleteAndWait(ctx, p.interval, "snapshot "+id, snapshots.Delete(ctx, c, id).ExtractErr(), temporarySnapshotDeleted, snapshotStatus(c, id))
}

// OnPrepareFinish takes the temporary snapshot the backup is made from.
func (h *backupProtect) OnPrepareFinish(ctx context.Context, a *providers.HookArgs) error {
	if !h.p.fromSnapshot {
		return nil
	}
	h.rc = a.Request
	vol := a.Resource.ID
	sec, err := protecting(ctx, a)
	if err != nil {
		return err
	}
	fail := func(err error) error {
		return h.fail(ctx, sec, vol, "Error creating snapshot for volume: "+reason(err))
	}
	c, err := h.p.client(ctx, a.Request)
	if err != nil {
		return fail(err)
	}
	s, err := snapshots.Create(creating(ctx), c, snapshots.CreateOpts{VolumeID: vol, Force: true}).Extract()
	if err != nil {
		return fail(err)
	}
	h.snapshotID = s.ID
	st, ok, err := statuspoll.Wait(ctx, h.p.interval, temporarySnapshotCreated, snapshotStatus(c, s.ID))
	if err == nil && !ok {
		err = fmt.Errorf("snapshot %s is %s", s.ID, st)
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

// OnMain backs the volume up, from the temporary snapshot if there is one,
// then removes the snapshot.
func (h *backupProtect) OnMain(ctx context.Context, a *providers.HookArgs) error {
	h.rc = a.Request
	vol := a.Resource.ID
	sec, err := protecting(ctx, a)
	if err != nil {
		h.dropSnapshot(ctx)
		return err
	}
	opts, err := backupOpts(vol, h.snapshotID, a.Parameters)
	if err != nil {
		return h.fail(ctx, sec, vol, err.Error())
	}
	c, err := h.p.client(ctx, a.Request)
	if err != nil {
		return h.fail(ctx, sec, vol, reason(err))
	}
	st, ok, err := statuspoll.Wait(ctx, h.p.interval, volumeReady, volumeStatus(c, vol))
	if err != nil {
		return h.fail(ctx, sec, vol, "Volume is in errorneous state: "+reason(err))
	}
	if !ok {
		return h.fail(ctx, sec, vol, "Volume is in errorneous state: "+st)
	}
	backupID, err := h.p.createBackup(ctx, c, opts)
	if err != nil {
		return h.fail(ctx, sec, vol, reason(err))
	}
	if err = sec.PutJSON(ctx, "metadata", backupMetadata{VolumeID: vol, BackupID: backupID}); err == nil {
		err = sec.PutString(ctx, "status", karbor.ResourceStatusAvailable)
	}
	if err != nil {
		cleanup(ctx, "backup "+backupID, func(ctx context.Context) error { return h.p.deleteBackup(ctx, c, backupID) })
		return h.fail(ctx, sec, vol, reason(err))
	}
	if h.snapshotID != "" {
		// Python only warns when the snapshot does not go: the backup
		// is made.
		if err := h.p.deleteSnapshot(ctx, c, h.snapshotID); err != nil {
			logctx.From(ctx).WithError(err).Warnf("Failed deleting snapshot %s", h.snapshotID)
		}
		h.snapshotID = ""
	}
	return nil
}

// Revert removes the temporary snapshot when the operation failed before
// this volume's OnMain used it.
func (h *backupProtect) Revert(ctx context.Context, _ *providers.HookArgs) error {
	h.dropSnapshot(ctx)
	return nil
}

// backupOpts are the backup request of a volume's protect parameters.
func backupOpts(vol, snapshotID string, params map[string]string) (backups.CreateOpts, error) {
	opts := backups.CreateOpts{VolumeID: vol, SnapshotID: snapshotID, Name: params["backup_name"],
		Description: params["description"], Container: params["container"]}
	switch mode := params["backup_mode"]; mode {
	case "", "full":
	case "incremental":
		opts.Incremental = true
	default:
		return opts, fmt.Errorf("parameter backup_mode: %q is neither full nor incremental", mode)
	}
	var err error
	opts.Force, err = parseBool(params, "force")
	return opts, err
}

// createBackup makes the backup and waits for it; a backup that fails is
// removed, and its fail_reason is the error.
func (p *BackupPlugin) createBackup(ctx context.Context, c *gophercloud.ServiceClient, opts backups.CreateOpts) (string, error) {
	b, err := backups.Create(creating(ctx), c, opts).Extract()
	if err != nil {
		return "", err
	}
	_, ok, err := statuspoll.Wait(ctx, p.interval, backupCreated, backupStatus(c, b.ID))
	if err == nil && !ok {
		//lint:ignore ST1005 Python's reason
		err = errors.New("Unable to find backup")
		if got, gerr := backups.Get(ctx, c, b.ID).Extract(); gerr == nil {
			err = errors.New(got.FailReason)
		}
	}
	if err != nil {
		cleanup(ctx, "backup "+b.ID, func(ctx context.Context) error { return p.deleteBackup(ctx, c, b.ID) })
		return "", err
	}
	return b.ID, nil
}

// deleteBackup deletes a backup and waits until it is gone. A backup still
// being made is waited for first.
func (p *BackupPlugin) deleteBackup(ctx context.Context, c *gophercloud.ServiceClient, id string) error {
	return deleteSettled(ctx, p.interval, "backup "+id, func() error { return backups.Delete(ctx, c, id).ExtractErr() }, backupDeleted, backupStatus(c, id))
}

// restore restores the backup into a new volume, named restore_name or
// "<checkpoint id>@<volume id>".
func (p *BackupPlugin) restore(ctx context.Context, a *providers.HookArgs) error {
	return restoreProtected(ctx, a, backupName, "backup", p.base, func(md *backupMetadata) string { return md.BackupID },
		func(ctx context.Context, c *gophercloud.ServiceClient, md *backupMetadata) (string, string) {
			r, err := backups.RestoreFromBackup(creating(ctx), c, md.BackupID, backups.RestoreOpts{}).Extract()
			if err != nil {
				return "", "Error creating volume: " + reason(err)
			}
			name := a.Parameters["restore_name"]
			if name == "" {
				name = a.Checkpoint.ID() + "@" + a.Resource.ID
			}
			upd := volumes.UpdateOpts{Name: &name}
			if d, ok := a.Parameters["restore_description"]; ok {
				upd.Description = &d
			}
			a.ReportResult(ctx, result(a.Resource.ID, karbor.ResourceStatusRestoring, ""))
			err = volumes.Update(ctx, c, r.VolumeID, upd).Err
			var st string
			ok := false
			if err == nil {
				st, ok, err = statuspoll.Wait(ctx, p.interval, volumeRestored, volumeStatus(c, r.VolumeID))
			}
			if err != nil {
				return r.VolumeID, "Error creating volume: " + reason(err)
			}
			if !ok {
				return r.VolumeID, "Error creating volume: " + st
			}
			return r.VolumeID, ""
		})
}

// deleteVolume removes a volume a failed restore made, once Cinder lets it
// (not while it is still being written).
func (b base) deleteVolume(ctx context.Context, c *gophercloud.ServiceClient, id string) error {
	settled := statuspoll.Rule{Success: []string{"available", "error", statuspoll.NotFound}, Ignore: []string{"creating", "restoring-backup", "downloading"}, IgnoreUnexpected: true}
	if _, _, err := statuspoll.Wait(ctx, b.interval, settled, volumeStatus(c, id)); err != nil {
		return err
	}
	if err := volumes.Delete(ctx, c, id, volumes.DeleteOpts{}).ExtractErr(); err != nil && !notFound(err) {
		return err
	}
	return nil
}

// verify finds the backup available.
func (p *BackupPlugin) verify(ctx context.Context, a *providers.HookArgs) error {
	return verifyProtected(ctx, a, backupName, "Error getting volume backup: ", "backup", p.client,
		func(md *backupMetadata) string { return md.BackupID }, getBackupStatus)
}

// delete deletes the backup, then the metadata.
func (p *BackupPlugin) delete(ctx context.Context, a *providers.HookArgs) error {
	return deleteProtected(ctx, a, backupName, p.client, func(md *backupMetadata) string { return md.BackupID }, p.deleteBackup)
}
