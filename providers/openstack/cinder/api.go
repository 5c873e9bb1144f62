package cinder

import (
	"context"
	"fmt"
	"time"

	"github.com/gokarbor/karbor-protection/providers/openstack/statuspoll"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/backups"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
)

// The statuses of Cinder's objects; a 404 is an error.

func getVolumeStatus(ctx context.Context, c *gophercloud.ServiceClient, id string) (string, error) {
	v, err := volumes.Get(ctx, c, id).Extract()
	return statusOf(v, err, func(v *volumes.Volume) string { return v.Status })
}

func getSnapshotStatus(ctx context.Context, c *gophercloud.ServiceClient, id string) (string, error) {
	s, err := snapshots.Get(ctx, c, id).Extract()
	return statusOf(s, err, func(s *snapshots.Snapshot) string { return s.Status })
}

func getBackupStatus(ctx context.Context, c *gophercloud.ServiceClient, id string) (string, error) {
	b, err := backups.Get(ctx, c, id).Extract()
	return statusOf(b, err, func(b *backups.Backup) string { return b.Status })
}

func statusOf[T any](v *T, err error, f func(*T) string) (string, error) {
	if err != nil {
		return "", err
	}
	return f(v), nil
}

// The status getters of the polls: a 404 reads as statuspoll.NotFound.

func volumeStatus(c *gophercloud.ServiceClient, id string) func(context.Context) (string, error) {
	return polled(c, id, getVolumeStatus)
}

func snapshotStatus(c *gophercloud.ServiceClient, id string) func(context.Context) (string, error) {
	return polled(c, id, getSnapshotStatus)
}

func backupStatus(c *gophercloud.ServiceClient, id string) func(context.Context) (string, error) {
	return polled(c, id, getBackupStatus)
}

func polled(c *gophercloud.ServiceClient, id string, get func(context.Context, *gophercloud.ServiceClient, string) (string, error)) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		st, err := get(ctx, c, id)
		if notFound(err) {
			return statuspoll.NotFound, nil
		}
		return st, err
	}
}

// deleteSettled deletes a snapshot or backup with deleteAndWait once it is
// no longer being made: Cinder refuses to delete it before.
func deleteSettled(ctx context.Context, interval time.Duration, what string, del func() error, s statuspoll.Rule, get func(context.Context) (string, error)) error {
	settled := statuspoll.Rule{Success: []string{"available", "error", statuspoll.NotFound}, Ignore: []string{"creating"}, IgnoreUnexpected: true}
	if _, _, err := statuspoll.Wait(ctx, interval, settled, get); err != nil {
		return err
	}
	return deleteAndWait(ctx, interval, what, del(), s, get)
}

// deleteAndWait deletes a snapshot or backup (a 404 counts as deleted) and
// polls until it is gone; ending in a failure status is an error that
// names what ("snapshot <id>") and the status.
func deleteAndWait(ctx context.Context, interval time.Duration, what string, del error, s statuspoll.Rule, get func(context.Context) (string, error)) error {
	if del != nil && !notFound(del) {
		return del
	}
	st, ok, err := statuspoll.Wait(ctx, interval, s, get)
	if err == nil && !ok {
		err = fmt.Errorf("%s is %s", what, st)
	}
	return err
}
