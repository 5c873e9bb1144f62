package cinder

import (
	"context"

	"github.com/gokarbor/karbor-protection/providers/openstack/statuspoll"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"

	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/graph"
)

// The names karbor's exceptions give the snapshot plugin (its verify
// spells it in lower case).
const (
	snapshotName       = "Volume Snapshot"
	snapshotVerifyName = "Volume snapshot"
)

// SnapshotPlugin protects volumes as Cinder snapshots.
type SnapshotPlugin struct{ base }

// NewSnapshotPlugin builds the plugin from its provider file's
// [volume_snapshot_plugin] and karbor.conf.
func NewSnapshotPlugin(conf, service *config.Config) (*SnapshotPlugin, error) {
	b, err := newBase(conf, service, snapshotGroup)
	if err != nil {
		return nil, err
	}
	return &SnapshotPlugin{b}, nil
}

// Schemas are karbor's volume_snapshot_plugin_schemas.
func (*SnapshotPlugin) Schemas(string) providers.Schemas {
	return providers.Schemas{Options: snapshotOptions, Restore: snapshotRestore, SavedInfo: snapshotSavedInfo}
}

// Hooks returns the operation's hooks.
func (p *SnapshotPlugin) Hooks(op providers.Op, _ graph.Resource) (providers.Hooks, error) {
	return hooksFor(SnapshotPluginName, op, mainHook{main: p.protect}, p.restore, p.verify, p.delete)
}

// snapshotMetadata is the resource section's "metadata" object.
type snapshotMetadata struct {
	VolumeID   string `json:"volume_id"`
	Size       int    `json:"size"`
	SnapshotID string `json:"snapshot_id"`
}

// protect snapshots the volume once it is ready.
func (p *SnapshotPlugin) protect(ctx context.Context, a *providers.HookArgs) error {
	vol := a.Resource.ID
	sec, err := protecting(ctx, a)
	if err != nil {
		return err
	}
	fail := func(why string) error {
		markError(ctx, sec)
		return karbor.CreateResourceFailed(snapshotName, why, vol, karbor.VolumeResourceType)
	}
	force, err := parseBool(a.Parameters, "force")
	if err != nil {
		return fail(err.Error())
	}
	c, err := p.client(ctx, a.Request)
	if err != nil {
		return fail(reason(err))
	}
	v, err := volumes.Get(ctx, c, vol).Extract()
	if err != nil {
		return fail("Volume is in a error status: " + reason(err))
	}
	st, ok, err := statuspoll.Wait(ctx, p.interval, volumeReady, volumeStatus(c, vol))
	if err != nil {
		return fail("Volume is in a error status: " + reason(err))
	}
	if !ok {
		return fail("Volume is in a error status: " + st)
	}
	s, err := snapshots.Create(creating(ctx), c, snapshots.CreateOpts{VolumeID: vol, Name: a.Parameters["snapshot_name"],
		Description: a.Parameters["description"], Force: force}).Extract()
	if err != nil {
		return fail(reason(err))
	}
	drop := func() {
		cleanup(ctx, "snapshot "+s.ID, func(ctx context.Context) error { return p.deleteSnapshot(ctx, c, s.ID) })
	}
	st, ok, err = statuspoll.Wait(ctx, p.interval, snapshotCreated, snapshotStatus(c, s.ID))
	if err != nil || !ok {
		drop()
		if err != nil {
			return fail(reason(err))
		}
		return fail("The status of snapshot is " + st)
	}
	err = sec.PutJSON(ctx, "metadata", snapshotMetadata{VolumeID: vol, Size: v.Size, SnapshotID: s.ID})
	if err == nil {
		err = sec.PutString(ctx, "status", karbor.ResourceStatusAvailable)
	}
	if err != nil {
		drop()
		return fail(reason(err))
	}
	return nil
}

// deleteSnapshot deletes a snapshot once Cinder lets it (not while it is
// being made) and waits until it is gone.
func (p *SnapshotPlugin) deleteSnapshot(ctx context.Context, c *gophercloud.ServiceClient, id string) error {
	return deleteSettled(ctx, p.interval, "snapshot "+id, func() error { return snapshots.Delete(ctx, c, id).ExtractErr() }, snapshotDeleted, snapshotStatus(c, id))
}

// restore makes a new volume from the snapshot, named restore_name or
// "volume-<checkpoint id>@<volume id>".
func (p *SnapshotPlugin) restore(ctx context.Context, a *providers.HookArgs) error {
	return restoreProtected(ctx, a, snapshotName, "snapshot", p.base, func(md *snapshotMetadata) string { return md.SnapshotID },
		func(ctx context.Context, c *gophercloud.ServiceClient, md *snapshotMetadata) (string, string) {
			name := a.Parameters["restore_name"]
			if name == "" {
				name = "volume-" + a.Checkpoint.ID() + "@" + a.Resource.ID
			}
			v, err := volumes.Create(creating(ctx), c, volumes.CreateOpts{Size: md.Size, SnapshotID: md.SnapshotID, Name: name,
				Description: a.Parameters["restore_description"]}, nil).Extract()
			if err != nil {
				return "", reason(err)
			}
			a.ReportResult(ctx, result(a.Resource.ID, karbor.ResourceStatusRestoring, ""))
			st, ok, err := statuspoll.Wait(ctx, p.interval, volumeReady, volumeStatus(c, v.ID))
			if err != nil {
				return v.ID, reason(err)
			}
			if !ok {
				return v.ID, "Invalid status: " + st
			}
			return v.ID, ""
		})
}

// verify finds the snapshot available.
func (p *SnapshotPlugin) verify(ctx context.Context, a *providers.HookArgs) error {
	return verifyProtected(ctx, a, snapshotVerifyName, "Getting volume snapshot fails: ", "snapshot", p.client,
		func(md *snapshotMetadata) string { return md.SnapshotID }, getSnapshotStatus)
}

// delete deletes the snapshot, then the metadata.
func (p *SnapshotPlugin) delete(ctx context.Context, a *providers.HookArgs) error {
	return deleteProtected(ctx, a, snapshotName, p.client, func(md *snapshotMetadata) string { return md.SnapshotID }, p.deleteSnapshot)
}
